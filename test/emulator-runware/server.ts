/**
 * HTTP layer: `POST {basePath}` (the API), `GET|HEAD /image/…` (result downloads), `/__emulator/…`
 * (control API); arrival faults, request recording, counters. The generic server pieces (keep-alive,
 * listen/close, body reading) are shared with the DashScope emulator (test/emulator/http-common.ts).
 */
import type http from 'node:http';

import { serveControl } from '../emulator/control-common';
import { closeServer, createEmulatorServer, flattenHeaders, listenOrigin, readBody } from '../emulator/http-common';

import { errorReply, faultReply, parseTasks, RunwareApi, type Reply } from './api';
import { RunwareError } from './errors';
import type { RunwareState } from './state';
import type { RunwareRecordedRequest, RunwareRequestKind } from './types';

/** Protects the test process only; Runware documents no body cap (UNCONFIRMED). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

export class RunwareHttpServer {
	private readonly server: http.Server;
	private readonly api: RunwareApi;

	constructor(readonly state: RunwareState) {
		this.api = new RunwareApi(state);
		this.server = createEmulatorServer(
			'runware-emulator',
			(req, res) => this.dispatch(req, res),
			(_req, res) => send(res, 'POST', errorReply(new RunwareError(500, { code: 'serverUnavailable', message: 'Internal emulator error.' }))),
		);
	}

	listen(port: number, host: string): Promise<string> {
		return listenOrigin(this.server, port, host);
	}

	close(): Promise<void> {
		this.state.wakeAll();
		return closeServer(this.server);
	}

	private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const method = (req.method ?? 'GET').toUpperCase();
		const url = new URL(req.url ?? '/', 'http://emulator.local');
		const { body: read, tooLarge } = await readBody(req, MAX_BODY_BYTES);
		const raw = tooLarge ? undefined : read;
		if (url.pathname.startsWith('/__emulator/')) {
			this.control(res, method, url, raw);
			return;
		}
		const isApi = url.pathname.replace(/\/$/, '') === this.state.config.basePath;
		const isResult = url.pathname.startsWith('/image/') && (method === 'GET' || method === 'HEAD');
		const headers = flattenHeaders(req.headers);
		let parsed: ReturnType<typeof parseTasks> | undefined;
		let body: unknown;
		if (raw && raw.length) {
			if (isApi && method === 'POST') parsed = parseTasks(raw);
			try {
				body = JSON.parse(raw.toString('utf8'));
			} catch {
				body = raw.toString('utf8');
			}
		}
		const tasks = Array.isArray(parsed) ? parsed : [];
		const kind: RunwareRequestKind =
			isApi && method === 'POST'
				? tasks.some((t) => t.taskType === 'imageInference')
					? 'inference'
					: tasks.some((t) => t.taskType === 'getResponse')
						? 'poll'
						: 'auth'
				: isResult
					? 'result'
					: 'other';
		const record: RunwareRecordedRequest = { kind, method, path: url.pathname + url.search, headers, body, status: 0, at: this.state.now() };
		this.state.recorded.push(record);
		const c = this.state.counters;
		if (isApi && method === 'POST') c.requests += 1;
		if (kind === 'result') c.downloads += 1;
		for (const task of tasks) {
			if (task.taskType !== 'imageInference') continue;
			c.submissions += 1;
			const uuid = typeof task.taskUUID === 'string' ? task.taskUUID : '(none)';
			c.submissionsByTaskUUID[uuid] = (c.submissionsByTaskUUID[uuid] ?? 0) + 1;
		}

		const reply = await this.process(kind, method, url, headers, raw, parsed, tasks);
		if (reply.type === 'destroy') {
			c.rejected += 1;
			req.socket.destroy();
			return;
		}
		record.status = reply.status;
		if (reply.type === 'json') record.responseBody = reply.body;
		if (reply.status >= 400) c.rejected += 1;
		if (reply.status === 429) c.throttled += 1;
		send(res, method, reply);
	}

	private async process(
		kind: RunwareRequestKind,
		method: string,
		url: URL,
		headers: Record<string, string>,
		raw: Buffer | undefined,
		parsed: ReturnType<typeof parseTasks> | undefined,
		tasks: Array<Record<string, unknown>>,
	): Promise<Reply> {
		const resultUUID = kind === 'result' ? /([0-9a-f-]{36})\.\w+$/.exec(url.pathname)?.[1] : undefined;
		const taskUUIDs = resultUUID
			? [this.state.images.get(resultUUID)?.task.taskUUID ?? '']
			: tasks.flatMap((t) => (typeof t.taskUUID === 'string' ? [t.taskUUID] : []));
		const models = tasks.flatMap((t) => (typeof t.model === 'string' ? [t.model] : []));
		const fault = this.state.faults.take('arrival', { kind, models, taskUUIDs });
		if (fault?.type === 'reset') return { type: 'destroy' };
		if (fault?.type === 'http') return faultReply(fault);
		if (fault?.type === 'replace-body') return { type: 'raw', status: fault.status ?? 200, contentType: fault.contentType, body: fault.body };
		if (fault?.type === 'delay') await this.state.sleep(fault.ms);

		if (raw === undefined) return errorReply(new RunwareError(413, { code: 'requestTooLarge', message: 'The request body is too large.' }));
		if (kind === 'result') return this.api.download(url.pathname);
		if (kind === 'other') {
			const onApi = url.pathname.replace(/\/$/, '') === this.state.config.basePath;
			return errorReply(
				onApi
					? new RunwareError(405, { code: 'methodNotAllowed', message: `Only POST is supported on ${this.state.config.basePath}.` })
					: new RunwareError(404, { code: 'notFound', message: `No route ${method} ${url.pathname}.` }),
			);
		}
		if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) {
			return errorReply(new RunwareError(400, { code: 'invalidContentType', message: "Content-Type must be 'application/json'." }));
		}
		if (parsed === undefined) return errorReply(new RunwareError(400, { code: 'invalidRequestBody', message: 'The request body is empty; send a JSON array of tasks.' }));
		if (parsed instanceof RunwareError) return errorReply(parsed);
		return this.api.handlePost(headers, parsed, { finishedOnly: fault?.type === 'finished-only' });
	}

	// ------------------------------------------------------------ control API

	private control(res: http.ServerResponse, method: string, url: URL, raw: Buffer | undefined): void {
		const path = url.pathname.replace(/\/$/, '');
		const state = this.state;
		serveControl(res, `${method} ${path}`, path, raw, state, (route) => {
			if (route === 'GET /__emulator/health') {
				return { status: 200, body: { ok: true, service: 'runware', url: state.origin, apiUrl: state.origin + state.config.basePath } };
			}
			if (route === 'GET /__emulator/tasks') return { status: 200, body: [...state.tasks.values()].map((t) => state.snapshot(t)) };
			if (method === 'GET' && path.startsWith('/__emulator/tasks/')) {
				const task = state.tasks.get(decodeURIComponent(path.slice('/__emulator/tasks/'.length)));
				return task ? { status: 200, body: state.snapshot(task) } : { status: 404, body: { error: 'no such task' } };
			}
			return undefined;
		});
	}
}

function send(res: http.ServerResponse, method: string, reply: Reply): void {
	if (res.destroyed || res.writableEnded || reply.type === 'destroy') return;
	if (reply.type === 'empty') {
		res.writeHead(reply.status, { 'content-length': 0 });
		res.end();
		return;
	}
	const payload = reply.type === 'json' ? Buffer.from(JSON.stringify(reply.body)) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
	const contentType = reply.type === 'json' ? 'application/json' : reply.contentType;
	res.writeHead(reply.status, { 'content-type': contentType, 'content-length': payload.length });
	res.end(method === 'HEAD' ? undefined : payload);
}
