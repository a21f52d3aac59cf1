/**
 * HTTP layer: routing by path (region prefix, DashScope API, results, OSS uploads, control API),
 * body reading, arrival-stage faults, request recording, counters and answering. Keep-alive is on
 * (65 s idle timeout, see constructor); close() also drops idle keep-alive sockets so it never hangs.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';

import { DashScopeApi, errorReply, faultReply, type ApiRequest, type Reply } from './api';
import { ApiError, MSG } from './errors';
import { closeServer, createEmulatorServer, flattenHeaders, listenOrigin, readBody } from './http-common';
import type { CreateRoute } from './models';
import { EmulatorState } from './state';
import { isRegionId, type FaultAction, type FaultRule, type RecordedRequest, type RegionId, type RequestKind } from './types';

/** No body cap is documented; this only protects the test process (BadRequest.TooLarge is the documented code). */
const MAX_BODY_BYTES = 320 * 1024 * 1024;

interface RouteMatch {
	kind: RequestKind;
	region?: RegionId;
	route?: CreateRoute;
	taskId?: string;
}

const CREATE_ROUTES: Record<string, { kind: RequestKind; route: CreateRoute }> = {
	'/services/aigc/multimodal-generation/generation': { kind: 'sync', route: 'sync-generation' },
	'/services/aigc/image-generation/generation': { kind: 'submit', route: 'async-generation' },
	'/services/aigc/image2image/image-synthesis': { kind: 'submit', route: 'image-synthesis' },
	'/services/aigc/text2image/image-synthesis': { kind: 'submit', route: 'text2image' },
};

export function matchRoute(method: string, pathname: string, defaultRegion: RegionId): RouteMatch {
	if (pathname.startsWith('/results/')) {
		const region = pathname.split('/')[2];
		return { kind: method === 'GET' || method === 'HEAD' ? 'result' : 'other', region: isRegionId(region) ? region : undefined };
	}
	const upload = /^\/oss-upload\/([a-z0-9-]+)\/?$/.exec(pathname);
	if (upload) return { kind: method === 'POST' ? 'upload' : 'other', region: isRegionId(upload[1]) ? upload[1] : undefined };

	const api = /^(?:\/([a-z0-9-]+))?\/api\/v1(\/.*)$/.exec(pathname);
	if (!api) return { kind: 'other' };
	if (api[1] !== undefined && !isRegionId(api[1])) return { kind: 'other' };
	const region: RegionId = (api[1] as RegionId | undefined) ?? defaultRegion;
	const rest = api[2];
	const create = CREATE_ROUTES[rest];
	if (create) return method === 'POST' ? { ...create, region } : { kind: 'other', region };
	if (/^\/tasks\/?$/.test(rest)) return { kind: method === 'GET' ? 'list' : 'other', region };
	const cancel = /^\/tasks\/([^/]+)\/cancel$/.exec(rest);
	if (cancel) return { kind: method === 'POST' ? 'cancel' : 'other', region, taskId: decodeURIComponent(cancel[1]) };
	const query = /^\/tasks\/([^/]+)$/.exec(rest);
	if (query) return { kind: method === 'GET' ? 'query' : 'other', region, taskId: decodeURIComponent(query[1]) };
	if (rest === '/uploads') return { kind: method === 'GET' ? 'upload-policy' : 'other', region };
	return { kind: 'other', region };
}

export class EmulatorHttpServer {
	private readonly server: http.Server;
	private readonly api: DashScopeApi;

	constructor(readonly state: EmulatorState) {
		this.api = new DashScopeApi(state);
		this.server = createEmulatorServer(
			'dashscope-emulator',
			(req, res) => this.dispatch(req, res),
			(req, res) => send(res, req.method ?? 'GET', errorReply(randomUUID(), new ApiError(500, 'InternalError', MSG.internal))),
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
		if (url.pathname.startsWith('/__emulator/')) {
			await this.control(req, res, method, url);
			return;
		}
		const at = this.state.now();
		const requestId = randomUUID();
		const match = matchRoute(method, url.pathname, this.state.defaultRegion);
		const { body: rawBody, tooLarge } = await readBody(req, MAX_BODY_BYTES);
		const headers = flattenHeaders(req.headers);
		let body: unknown;
		let parseError = false;
		if (rawBody.length > 0 && !tooLarge) {
			if (match.kind === 'upload') {
				body = `<multipart body, ${rawBody.length} bytes>`;
			} else {
				try {
					body = JSON.parse(rawBody.toString('utf8'));
				} catch {
					parseError = true;
					body = rawBody.toString('utf8');
				}
			}
		}
		const record: RecordedRequest = { kind: match.kind, method, path: url.pathname + url.search, region: match.region, headers, body, status: 0, at };
		this.state.recorded.push(record);
		this.countReceived(match.kind);

		const reply = await this.process({ ...match, method, url, headers, rawBody, body, parseError, requestId }, tooLarge);
		if (reply.type === 'destroy') {
			record.status = 0;
			this.state.counters.rejected += 1;
			req.socket.destroy();
			return;
		}
		const status = reply.type === 'sse' ? 200 : reply.status;
		record.status = status;
		if (reply.type === 'json') record.responseBody = reply.body;
		if (reply.type === 'sse') record.responseBody = reply.frames;
		if (status >= 400) this.state.counters.rejected += 1;
		if (status === 429) this.state.counters.throttled += 1;
		const cut = reply.type === 'raw' ? this.state.faults.take('response', { kind: match.kind, taskId: resultTaskId({ kind: match.kind, url } as ApiRequest) }) : undefined;
		if (reply.type === 'raw' && (cut?.type === 'reset-mid-body' || cut?.type === 'truncate-body')) {
			sendCut(res, reply, cut);
			return;
		}
		send(res, method, reply);
	}

	private async process(req: ApiRequest, tooLarge: boolean): Promise<Reply> {
		const model =
			(req.kind === 'submit' || req.kind === 'sync') && typeof (req.body as { model?: unknown } | undefined)?.model === 'string'
				? ((req.body as { model: string }).model)
				: req.taskId
					? this.state.tasks.get(req.taskId)?.model
					: req.kind === 'upload-policy'
						? (req.url.searchParams.get('model') ?? undefined)
						: undefined;
		const fault = this.state.faults.take('arrival', { kind: req.kind, model, taskId: req.taskId ?? resultTaskId(req) });
		if (fault?.type === 'reset') return { type: 'destroy' };
		if (fault?.type === 'http') return faultReply(req.requestId, fault, req.kind);
		if (fault?.type === 'delay') await this.state.sleep(fault.ms);
		if (fault?.type === 'replace-body') {
			return { type: 'raw', status: fault.status ?? 200, body: fault.body, contentType: fault.contentType };
		}

		if (tooLarge) return errorReply(req.requestId, new ApiError(400, 'BadRequest.TooLarge', 'The request payload is too large.'));
		if (req.kind === 'other' || ((req.kind === 'result' || req.kind === 'upload') && !req.region)) {
			// Unknown path or method (the gateway's documented "url error" answer).
			return errorReply(req.requestId, new ApiError(404, 'InvalidParameter', MSG.urlError));
		}
		return this.api.handle(req);
	}

	private countReceived(kind: RequestKind): void {
		const c = this.state.counters;
		if (kind === 'submit') c.submitAttempts += 1;
		else if (kind === 'sync') c.syncCalls += 1;
		else if (kind === 'query') c.queries += 1;
		else if (kind === 'cancel') c.cancels += 1;
		else if (kind === 'list') c.lists += 1;
		else if (kind === 'result') c.resultDownloads += 1;
	}

	// ------------------------------------------------------------ control API

	private async control(req: http.IncomingMessage, res: http.ServerResponse, method: string, url: URL): Promise<void> {
		const { body: raw } = await readBody(req, MAX_BODY_BYTES);
		const reply = (status: number, body: unknown): void => {
			const text = JSON.stringify(body ?? null);
			res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
			res.end(text);
		};
		let input: Record<string, unknown> = {};
		try {
			input = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
		} catch {
			reply(400, { error: 'invalid JSON' });
			return;
		}
		const route = `${method} ${url.pathname.replace(/\/$/, '')}`;
		const state = this.state;
		try {
			if (route === 'POST /__emulator/reset') {
				state.reset();
				reply(200, { ok: true });
			} else if (route === 'GET /__emulator/timing') {
				reply(200, state.timing);
			} else if (route === 'POST /__emulator/timing') {
				state.setTiming(input);
				reply(200, state.timing);
			} else if (route === 'GET /__emulator/clock') {
				reply(200, { now: state.now() });
			} else if (route === 'POST /__emulator/clock') {
				state.advanceClock(Number(input.advanceMs ?? 0));
				reply(200, { now: state.now() });
			} else if (route === 'POST /__emulator/keys') {
				state.addKey(String(input.key ?? ''), input.region as RegionId);
				reply(200, { ok: true });
			} else if (route === 'POST /__emulator/faults') {
				state.faults.add(input as unknown as FaultRule);
				reply(200, { ok: true, pending: state.faults.pending().length });
			} else if (route === 'GET /__emulator/faults') {
				reply(200, state.faults.pending());
			} else if (route === 'DELETE /__emulator/faults') {
				state.faults.clear();
				reply(200, { ok: true });
			} else if (route === 'GET /__emulator/counters') {
				reply(200, state.counters);
			} else if (route === 'GET /__emulator/requests') {
				reply(200, state.recorded);
			} else if (route === 'GET /__emulator/health') {
				reply(200, { ok: true, url: state.origin });
			} else if (route === 'GET /__emulator/tasks') {
				reply(200, state.tasks.all().map((task) => state.snapshot(task)));
			} else if (method === 'GET' && url.pathname.startsWith('/__emulator/tasks/')) {
				const task = state.tasks.get(decodeURIComponent(url.pathname.slice('/__emulator/tasks/'.length)));
				if (task) reply(200, state.snapshot(task));
				else reply(404, { error: 'no such task' });
			} else {
				reply(404, { error: `unknown control route ${route}` });
			}
		} catch (err) {
			reply(400, { error: err instanceof Error ? err.message : String(err) });
		}
	}
}

function resultTaskId(req: ApiRequest): string | undefined {
	return req.kind === 'result' ? req.url.pathname.split('/')[3] : undefined;
}

/** A body cut short: with the full Content-Length and a dead socket, or chunked and ended cleanly. */
function sendCut(
	res: http.ServerResponse,
	reply: Extract<Reply, { type: 'raw' }>,
	cut: Extract<FaultAction, { type: 'reset-mid-body' | 'truncate-body' }>,
): void {
	const payload = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
	const keep = Math.min(payload.length, cut.keepBytes ?? Math.floor(payload.length / 2));
	const headers = { ...(reply.headers ?? {}), 'content-type': reply.contentType };
	if (cut.type === 'reset-mid-body') {
		res.writeHead(reply.status, { ...headers, 'content-length': payload.length });
		res.write(payload.subarray(0, keep), () => setTimeout(() => res.socket?.destroy(), 20));
		return;
	}
	res.writeHead(reply.status, headers); // no Content-Length: chunked
	res.end(payload.subarray(0, keep));
}

function send(res: http.ServerResponse, method: string, reply: Reply): void {
	if (res.destroyed || res.writableEnded) return;
	if (reply.type === 'destroy') {
		res.destroy();
		return;
	}
	if (reply.type === 'sse') {
		res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8', 'cache-control': 'no-cache' });
		for (const frame of reply.frames) res.write(frame);
		res.end();
		return;
	}
	const payload = reply.type === 'json' ? Buffer.from(JSON.stringify(reply.body)) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
	const contentType = reply.type === 'json' ? 'application/json' : reply.contentType;
	res.writeHead(reply.status, { ...(reply.headers ?? {}), 'content-type': contentType, 'content-length': payload.length });
	res.end(method === 'HEAD' ? undefined : payload);
}
