/**
 * HTTP layer: `POST {base}/images/generations`, `GET {base}/models`, `GET|HEAD /results/{id}.png`
 * (expiring result URLs), `/__emulator/…` (control API); faults, request log, counters. The generic
 * server pieces (keep-alive, listen/close, body reading) are shared (test/emulator/http-common.ts).
 */
import type http from 'node:http';

import { serveControl } from '../emulator/control-common';
import { closeServer, createEmulatorServer, flattenHeaders, listenOrigin, readBody } from '../emulator/http-common';

import { GatewayError } from './errors';
import type { GatewayState } from './state';
import type { GatewayFaultAction, GatewayRecordedRequest, GatewayRequestKind } from './types';
import { GATEWAY_MODELS, validateGeneration } from './validation';

/** 9 images × 20 MB as base64 fit; protects the test process only (no gateway documents a cap, UNCONFIRMED). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

type Reply =
	| { type: 'json'; status: number; body: unknown; headers?: Record<string, string> }
	| { type: 'raw'; status: number; contentType: string; body: Buffer | string; headers?: Record<string, string> }
	| { type: 'destroy' };

const errorReply = (err: GatewayError): Reply => ({ type: 'json', status: err.status, body: err.body(), headers: err.headers });

export class GatewayHttpServer {
	private readonly server: http.Server;

	constructor(readonly state: GatewayState) {
		this.server = createEmulatorServer(
			'gateway-emulator',
			(req, res) => this.dispatch(req, res),
			(_req, res) => send(res, 'POST', errorReply(new GatewayError(500, 'internal_error', 'Internal emulator error.'))),
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
		const path = url.pathname.replace(/\/+$/, '');
		const { body: read, tooLarge } = await readBody(req, MAX_BODY_BYTES);
		if (path.startsWith('/__emulator/')) {
			this.control(res, method, path, tooLarge ? undefined : read);
			return;
		}
		const base = this.state.config.basePath;
		const kind: GatewayRequestKind =
			path === `${base}/images/generations` && method === 'POST'
				? 'generation'
				: path === `${base}/models` && method === 'GET'
					? 'models'
					: path.startsWith('/results/') && (method === 'GET' || method === 'HEAD')
						? 'result'
						: 'other';
		const headers = flattenHeaders(req.headers);
		let body: unknown;
		if (read.length) {
			try {
				body = JSON.parse(read.toString('utf8'));
			} catch {
				body = read.toString('utf8');
			}
		}
		const record: GatewayRecordedRequest = { kind, method, path: url.pathname + url.search, headers, body, status: 0, at: this.state.now() };
		this.state.recorded.push(record);
		const c = this.state.counters;
		if (kind !== 'result') c.requests += 1;
		if (kind === 'generation') c.generationRequests += 1;
		if (kind === 'models') c.modelsCalls += 1;
		if (kind === 'result') c.downloads += 1;

		const model = typeof (body as { model?: unknown })?.model === 'string' ? (body as { model: string }).model : undefined;
		const fault = this.state.faults.take('arrival', kind, model);
		let reply: Reply;
		if (fault?.type === 'reset') reply = { type: 'destroy' };
		else if (fault?.type === 'http') reply = httpFault(fault);
		else if (fault?.type === 'html') reply = { type: 'raw', status: 200, contentType: 'text/html; charset=utf-8', body: HTML_PAGE };
		else if (tooLarge) reply = errorReply(new GatewayError(413, 'request_too_large', 'The request body is too large.'));
		else if (kind === 'result') reply = await this.result(path);
		else if (kind === 'models') reply = this.models(headers);
		else if (kind === 'generation') {
			this.state.enter();
			try {
				await this.generation(req, res, headers, read, record);
			} finally {
				this.state.leave();
			}
			return;
		} else reply = errorReply(this.unknownRoute(method, path));
		finish(record, reply, c);
		send(res, method, reply, req);
	}

	private unknownRoute(method: string, path: string): GatewayError {
		const base = this.state.config.basePath;
		if (path === `${base}/images/generations` || path === `${base}/models`) {
			return new GatewayError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`);
		}
		return new GatewayError(404, 'not_found', `Invalid URL (${method} ${path}).`);
	}

	private authorise(headers: Record<string, string>): string | GatewayError {
		const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
		if (!match) {
			return new GatewayError(401, 'invalid_api_key', "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.");
		}
		if (!this.state.keys.has(match[1])) {
			// Never echo the key back (money rules: the key must not appear in outputs).
			return new GatewayError(401, 'invalid_api_key', 'Incorrect API key provided.');
		}
		return match[1];
	}

	private models(headers: Record<string, string>): Reply {
		if (this.state.config.modelsRoute === 'absent') {
			return errorReply(new GatewayError(404, 'not_found', `Invalid URL (GET ${this.state.config.basePath}/models).`));
		}
		const key = this.authorise(headers);
		if (key instanceof GatewayError) {
			this.state.counters.authFailures += 1;
			return errorReply(key);
		}
		const ids = [...GATEWAY_MODELS, ...Object.keys(this.state.config.aliases)];
		const created = Math.floor(this.state.now() / 1000);
		return { type: 'json', status: 200, body: { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'alibaba' })) } };
	}

	private async result(path: string): Promise<Reply> {
		const id = /^\/results\/([0-9a-f-]{36})\.png$/.exec(path)?.[1];
		const found = id ? this.state.results.get(id) : undefined;
		if (!id || !found) return ossError(404, 'NoSuchKey', 'The specified key does not exist.');
		if (this.state.now() >= this.state.expiresAt(found.generation)) return ossError(403, 'AccessDenied', 'Request has expired.');
		const png = await this.state.picture(id)!;
		return { type: 'raw', status: 200, contentType: 'image/png', body: png };
	}

	private async generation(req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>, raw: Buffer, record: GatewayRecordedRequest): Promise<void> {
		const { state } = this;
		const c = state.counters;
		const refuse = (err: GatewayError): void => {
			const reply = errorReply(err);
			finish(record, reply, c);
			send(res, 'POST', reply, req);
		};
		const key = this.authorise(headers);
		if (key instanceof GatewayError) {
			c.authFailures += 1;
			refuse(key);
			return;
		}
		if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) {
			refuse(new GatewayError(400, 'invalid_request_body', "Content-Type must be 'application/json'."));
			return;
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(raw.toString('utf8'));
		} catch {
			refuse(new GatewayError(400, 'invalid_json', 'We could not parse the JSON body of your request.'));
			return;
		}
		let job;
		try {
			job = await validateGeneration(parsed, { dialect: state.config.dialect, aliases: state.config.aliases });
		} catch (err) {
			if (!(err instanceof GatewayError)) throw err;
			refuse(err);
			return;
		}
		const fault = state.faults.take('work', 'generation', job.requestedModel);
		const generation = state.start(key, job);
		// The client leaving (timeout, cancel) is seen as the connection closing before the answer was written.
		res.once('close', () => {
			if (!res.writableFinished) generation.clientGone = true;
		});
		// Synchronous work: the answer waits for it. A client that leaves does not stop it (it is billed).
		await state.workWait(state.timing.generationMs + job.n * state.timing.perImageMs);
		const count = fault?.type === 'fewer-images' ? Math.min(fault.count, job.n) : job.n;
		state.complete(generation, count);

		if (fault?.type === 'slow-answer') await state.workWait(fault.ms);
		let reply: Reply;
		if (fault?.type === 'error-after-work') {
			c.answersLost += 1; // the images exist and are billed, but the client gets an error instead
			reply = fault.body !== undefined
				? { type: 'raw', status: fault.status ?? 502, contentType: fault.contentType ?? 'text/html', body: fault.body }
				: errorReply(new GatewayError(fault.status ?? 500, fault.code ?? 'InternalError', fault.message ?? 'An internal error has occurred, please try again later.', null, 'server_error'));
		} else {
			reply = { type: 'json', status: 200, body: await this.answer(generation) };
		}
		if (generation.clientGone || res.destroyed || req.socket.destroyed) {
			c.answersLost += 1;
			return;
		}
		if (fault?.type === 'reset-mid-answer') {
			c.answersLost += 1;
			record.status = reply.type === 'destroy' ? 0 : reply.status;
			cutAnswer(res, reply, fault.fraction ?? 0.5);
			return;
		}
		finish(record, reply, c);
		send(res, 'POST', reply, req);
	}

	private async answer(generation: ReturnType<GatewayState['start']>): Promise<unknown> {
		const { state } = this;
		const { job } = generation;
		const revised = state.config.revisedPrompt === 'prompt' ? job.prompt : '';
		const expires = Math.floor(state.expiresAt(generation) / 1000);
		const data: Array<Record<string, string>> = [];
		for (const id of generation.resultIds) {
			// Encoded one at a time: a 12-image set holds one base64 string plus the answer being built.
			if (job.responseFormat === 'b64_json') data.push({ b64_json: (await state.picture(id)!).toString('base64'), revised_prompt: revised });
			else data.push({ url: `${state.origin}/results/${id}.png?Expires=${expires}`, revised_prompt: revised });
		}
		return { created: Math.floor(generation.startedAt / 1000), data };
	}

	// ------------------------------------------------------------ control API

	private control(res: http.ServerResponse, method: string, path: string, raw: Buffer | undefined): void {
		const state = this.state;
		serveControl(res, `${method} ${path}`, path, raw, state, (route) => {
			const ok = (body: unknown) => ({ status: 200, body });
			if (route === 'GET /__emulator/dialect') return ok(state.config.dialect);
			if (route === 'GET /__emulator/health') {
				return ok({ ok: true, service: 'gateway', url: state.origin, apiUrl: state.origin + state.config.basePath, dialect: state.config.dialect.name });
			}
			if (route === 'GET /__emulator/generations') return ok([...state.generations.values()].map((g) => state.snapshot(g)));
			if (route === 'POST /__emulator/generations/complete') {
				state.completePending();
				return ok({ ok: true });
			}
			if (method === 'GET' && path.startsWith('/__emulator/generations/')) {
				const g = state.generations.get(decodeURIComponent(path.slice('/__emulator/generations/'.length)));
				return g ? ok(state.snapshot(g)) : { status: 404, body: { error: 'no such generation' } };
			}
			return undefined;
		});
	}
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>';

function httpFault(fault: Extract<GatewayFaultAction, { type: 'http' }>): Reply {
	const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
	if (fault.body !== undefined) return { type: 'raw', status: fault.status, contentType: fault.contentType ?? 'text/html', body: fault.body, headers };
	const code = fault.code ?? (fault.status === 429 ? 'Throttling.RateQuota' : fault.status >= 500 ? 'InternalError' : 'injected_fault');
	const message = fault.message ?? `Injected HTTP ${fault.status}.`;
	return { type: 'json', status: fault.status, body: new GatewayError(fault.status, code, message, null, fault.errorType).body(), headers };
}

function ossError(status: number, code: string, message: string): Reply {
	return { type: 'raw', status, contentType: 'application/xml', body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>` };
}

/** Logs the answer (b64_json shortened) and counts refusals. */
function finish(record: GatewayRecordedRequest, reply: Reply, c: GatewayState['counters']): void {
	if (reply.type === 'destroy') {
		c.rejected += 1;
		return;
	}
	record.status = reply.status;
	if (reply.type === 'json') record.responseBody = shorten(reply.body);
	if (reply.status >= 400) c.rejected += 1;
	if (reply.status === 429) c.throttled += 1;
}

function shorten(body: unknown): unknown {
	const data = (body as { data?: unknown })?.data;
	if (!Array.isArray(data)) return body;
	return { ...(body as object), data: data.map((d: Record<string, unknown>) => (typeof d.b64_json === 'string' ? { ...d, b64_json: `<${d.b64_json.length} base64 chars>` } : d)) };
}

function payloadOf(reply: Exclude<Reply, { type: 'destroy' }>): { bytes: Buffer; contentType: string } {
	if (reply.type === 'json') return { bytes: Buffer.from(JSON.stringify(reply.body)), contentType: 'application/json' };
	return { bytes: Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body), contentType: reply.contentType };
}

function send(res: http.ServerResponse, method: string, reply: Reply, req?: http.IncomingMessage): void {
	if (reply.type === 'destroy') {
		req?.socket.destroy();
		return;
	}
	if (res.destroyed || res.writableEnded) return;
	const { bytes, contentType } = payloadOf(reply);
	res.writeHead(reply.status, { ...(reply.headers ?? {}), 'content-type': contentType, 'content-length': bytes.length });
	res.end(method === 'HEAD' ? undefined : bytes);
}

/** Writes the head and the first `fraction` of the body, then drops the connection. */
function cutAnswer(res: http.ServerResponse, reply: Reply, fraction: number): void {
	if (reply.type === 'destroy' || fraction === 0) {
		res.socket?.destroy();
		return;
	}
	const { bytes, contentType } = payloadOf(reply);
	res.writeHead(reply.status, { 'content-type': contentType, 'content-length': bytes.length });
	res.write(bytes.subarray(0, Math.floor(bytes.length * fraction)), () => res.socket?.destroy());
}
