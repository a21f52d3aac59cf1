/**
 * Transport pieces that need no emulator: backoff maths, Retry-After, the limiter, error mapping,
 * toNodeApiError, and the situations only a hand-made server can produce (garbled 200s, a server
 * that echoes the API key, a socket cut while the request body is still streaming).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeApiError } from 'n8n-workflow';
import {
	ApiError,
	SlidingWindowLimiter,
	backoffDelay,
	parseRetryAfter,
	redact,
	resetRateLimiters,
	toNodeApiError,
	type StreamingJsonBody,
} from '../nodes/AlibabaWan/transport';
import { containsOssUrl, downloadResult, getTask, submitTask } from '../nodes/AlibabaWan/services/dashscope/dashScopeApi';
import { errorFromHttp, hintFor } from '../nodes/AlibabaWan/services/dashscope/errors';
import { DEFAULT_RETRY_POLICY } from '../nodes/AlibabaWan/transport/retry';
import { TEST_NODE, caught } from './fixtures/transport';

const FAST = { baseDelayMs: 5, maxDelayMs: 20 };
const KEY = 'sk-unit-secret-0123456789abcdef';
const body = { model: 'wan2.7-image', input: { messages: [{ role: 'user', content: [{ text: 'an apple' }] }] }, parameters: {} };

interface RawServer {
	url: string;
	hits: number;
	bodies: string[];
	close(): Promise<void>;
}

/** A throwaway server for situations the emulator cannot produce. */
async function rawServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void): Promise<RawServer> {
	const state = { hits: 0, bodies: [] as string[] };
	const server = http.createServer((req, res) => {
		state.hits++;
		handler(req, res, state.hits);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		get hits() {
			return state.hits;
		},
		bodies: state.bodies,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

function readBody(req: http.IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const parts: Buffer[] = [];
		req.on('data', (c: Buffer) => parts.push(c));
		req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
		req.on('error', reject);
	});
}

function expectNoKey(value: unknown, key = KEY): void {
	const err = value as Error & { description?: string; hint?: string };
	expect(JSON.stringify(value)).not.toContain(key);
	expect(String(err.message)).not.toContain(key);
	expect(String(err.stack)).not.toContain(key);
	expect(String(err.description ?? '')).not.toContain(key);
	expect(String(err.hint ?? '')).not.toContain(key);
	expect(JSON.stringify(Object.getOwnPropertyNames(value).map((k) => String((value as Record<string, unknown>)[k])))).not.toContain(key);
}

beforeEach(() => resetRateLimiters());

describe('backoff and Retry-After', () => {
	it('full jitter stays within min(cap, base * 2^n) and honours Retry-After as a floor', () => {
		const policy = { ...DEFAULT_RETRY_POLICY };
		expect(backoffDelay(0, policy, undefined, () => 0.999)).toBeLessThanOrEqual(500);
		expect(backoffDelay(3, policy, undefined, () => 0.999)).toBe(3996);
		expect(backoffDelay(10, policy, undefined, () => 0.999)).toBe(9990); // capped at 10 s
		expect(backoffDelay(0, policy, undefined, () => 0)).toBe(0);
		expect(backoffDelay(0, policy, 2000, () => 0.5)).toBe(2000);
	});

	it('parses delta-seconds and HTTP dates', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');
		expect(parseRetryAfter('3', now)).toBe(3000);
		expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
		expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
		expect(parseRetryAfter('soon', now)).toBeUndefined();
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
	});
});

describe('SlidingWindowLimiter', () => {
	it('grants at most `limit` per window, in order, and abort rejects a queued waiter at once', async () => {
		const limiter = new SlidingWindowLimiter(3, 200);
		const grants: number[] = [];
		const start = Date.now();
		await Promise.all(Array.from({ length: 7 }, () => limiter.acquire().then(() => grants.push(Date.now() - start))));
		expect(grants).toHaveLength(7);
		for (let i = 3; i < grants.length; i++) expect(grants[i] - grants[i - 3]).toBeGreaterThanOrEqual(195);

		// Pacing counts departures: a slot whose request left late holds its place longer.
		const paced = new SlidingWindowLimiter(2, 200);
		const t0 = Date.now();
		const first = await paced.acquire();
		const second = await paced.acquire();
		await new Promise((resolve) => setTimeout(resolve, 100));
		paced.markSent(first);
		paced.markSent(second);
		await paced.acquire();
		expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

		const controller = new AbortController();
		for (let i = 0; i < 3; i++) await limiter.acquire();
		const waiting = limiter.acquire(controller.signal);
		const abortedAt = Date.now();
		controller.abort();
		const error = await caught(waiting);
		expect(error.code).toBe('Aborted');
		expect(Date.now() - abortedAt).toBeLessThan(50);
	});
});

describe('error mapping', () => {
	it('maps DashScope error bodies, non-JSON bodies and hints', () => {
		const e = errorFromHttp({
			status: 401,
			bodyText: JSON.stringify({ request_id: 'r-1', code: 'InvalidApiKey', message: 'Invalid API-key provided.' }),
		});
		expect(e).toMatchObject({ code: 'InvalidApiKey', requestId: 'r-1', httpStatus: 401 });
		expect(e.hint).toMatch(/region/);

		const html = errorFromHttp({ status: 502, statusText: 'Bad Gateway', bodyText: '<html>' + 'x'.repeat(500) + '</html>' });
		expect(html.code).toBe('Unknown');
		expect(html.message.startsWith('502 Bad Gateway: <html>')).toBe(true);
		expect(html.message.length).toBeLessThanOrEqual('502 Bad Gateway: '.length + 200);

		expect(hintFor('AccessDenied', 'current user api does not support synchronous calls')).toMatch(/X-DashScope-Async/);
		expect(hintFor('Throttling.AllocationQuota', 'Free allocated quota exceeded.')).toMatch(/Retrying will not help/);
		expect(hintFor('Throttling.RateQuota', '')).toMatch(/Concurrency/);
		expect(hintFor('InvalidURL.Timeout', '')).toMatch(/binary/);
		expect(hintFor('IPInfringementSuspect', '')).toMatch(/prompt rewriting/);
		expect(hintFor('ModelNotFound', '')).toMatch(/region/);
	});

	it('redacts the key and Bearer tokens', () => {
		expect(redact(`key ${KEY} and Bearer ${KEY}x`, [KEY])).toBe('key [redacted] and Bearer [redacted]');
		expect(containsOssUrl({ a: [{ image: 'oss://dashscope/x.png' }] })).toBe(true);
		expect(containsOssUrl({ a: ['https://x/oss://'] })).toBe(false);
	});

	it('toNodeApiError carries code, message, hint, ids, httpCode and failure cause', () => {
		const error = new ApiError({
			code: 'Throttling.RateQuota',
			message: 'Requests rate limit exceeded, please try again later.',
			requestId: 'req-9',
			httpStatus: 429,
			hint: hintFor('Throttling.RateQuota', ''),
			retryable: true,
			retryAfterMs: 3000,
			service: 'DashScope', // set by the DashScope client on every error it throws
		});
		const apiError = toNodeApiError(TEST_NODE, error, { itemIndex: 2, taskId: 'task-7' }) as NodeApiError;
		expect(apiError).toBeInstanceOf(NodeApiError);
		expect(apiError.message).toBe('DashScope Throttling.RateQuota: Requests rate limit exceeded, please try again later.');
		expect(apiError.description).toContain('Concurrency');
		expect(apiError.description).toContain('req-9');
		expect(apiError.description).toContain('task-7');
		expect(apiError.httpCode).toBe('429');
		expect(apiError.failure).toEqual({ cause: 'rate-limited', retryAfterMs: 3000 });
		expect(apiError.context.itemIndex).toBe(2);
		expect(apiError.context.dashScope).toMatchObject({ code: 'Throttling.RateQuota', request_id: 'req-9', task_id: 'task-7' });

		const network = toNodeApiError(TEST_NODE, new ApiError({ code: 'ECONNRESET', networkCode: 'UND_ERR_SOCKET', message: 'Connection reset by the server', service: 'DashScope' }), {});
		expect(network.message).toBe('DashScope ECONNRESET: Connection reset by the server'); // not n8n's generic text
		expect((network as NodeApiError).httpCode).toBeNull();
		expect(network.failure).toEqual({ cause: 'temporarily-unavailable' });

		const quota = toNodeApiError(TEST_NODE, new ApiError({ code: 'Arrearage', message: 'overdue', httpStatus: 400 }), {});
		expect(quota.failure).toEqual({ cause: 'quota-exhausted' });
		const cred = toNodeApiError(TEST_NODE, new ApiError({ code: 'InvalidApiKey', message: 'x', httpStatus: 401 }), {});
		expect(cred.failure).toEqual({ cause: 'credential-invalid' });
		const model = toNodeApiError(TEST_NODE, new ApiError({ code: 'ModelNotFound', message: 'x', httpStatus: 404 }), {});
		expect(model.failure).toEqual({ cause: 'configuration-invalid' });
	});
});

describe('hand-made servers', () => {
	it('a garbled 200 to a submit is InvalidResponse with taskMayExist and is not retried', async () => {
		const methods: string[] = [];
		const server = await rawServer((req, res) => {
			methods.push(`${req.method} ${req.url?.split('?')[0]}`);
			void readBody(req).then(() => {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end('{"request_id":"req-garbled","output":{"task_status":"PEND');
			});
		});
		try {
			const error = await caught(submitTask({ baseUrl: `${server.url}/api/v1`, apiKey: KEY }, 'image-generation', body, { retry: FAST }));
			expect(error).toBeInstanceOf(ApiError);
			expect(error.code).toBe('InvalidResponse');
			expect(error.taskMayExist).toBe(true);
			expect(error.hint).toMatch(/may have been created/);
			expect(error.hint).toMatch(/Retry On Fail/);
			// One submit; then the task list is consulted (garbled too here), never a second submit.
			expect(methods.filter((m) => m.startsWith('POST'))).toHaveLength(1);
			expect(methods.slice(1).every((m) => m === 'GET /api/v1/tasks')).toBe(true);
			expect(error.hint).toMatch(/task list could not be read/);
		} finally {
			await server.close();
		}
	});

	it('a 200 task GET of the wrong shape is InvalidResponse with the request id; both FAILED conventions parse', async () => {
		const server = await rawServer((req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			if (req.url?.endsWith('/tasks/bad')) res.end(JSON.stringify({ request_id: 'req-shape', output: { task_id: 'bad' } }));
			else if (req.url?.endsWith('/tasks/top'))
				res.end(JSON.stringify({ request_id: 'req-top', code: 'InvalidParameter', message: 'num_images_per_prompt must be 1' }));
			else
				res.end(
					JSON.stringify({
						request_id: 'req-top2',
						output: { task_id: 'mix', task_status: 'FAILED' },
						code: 'DataInspectionFailed',
						message: 'Output data may contain inappropriate content.',
					}),
				);
		});
		try {
			const endpoint = { baseUrl: `${server.url}/api/v1`, apiKey: KEY };
			const error = await caught(getTask(endpoint, 'bad', { retry: FAST }));
			expect(error.code).toBe('InvalidResponse');
			expect(error.requestId).toBe('req-shape');
			expect(error.message).toMatch(/output\.task_status/);
			expect(server.hits).toBe(1);

			const top = await getTask(endpoint, 'top');
			expect(top.output).toMatchObject({ task_id: 'top', task_status: 'FAILED', code: 'InvalidParameter' });
			const mixed = await getTask(endpoint, 'mix');
			expect(mixed.output).toMatchObject({ task_status: 'FAILED', code: 'DataInspectionFailed' });
		} finally {
			await server.close();
		}
	});

	it('never lets the API key out, even when the server echoes it (JSON and plain-text bodies)', async () => {
		const server = await rawServer((req, res) => {
			const auth = String(req.headers.authorization);
			if (req.url?.includes('/tasks/json')) {
				res.writeHead(400, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ request_id: 'req-echo', code: 'InvalidParameter', message: `bad key ${KEY}; header was ${auth}` }));
			} else {
				res.writeHead(401, { 'content-type': 'text/plain' });
				res.end(`Unauthorized: ${auth} / ${encodeURIComponent(KEY)}`);
			}
		});
		try {
			const endpoint = { baseUrl: `${server.url}/api/v1`, apiKey: KEY };
			for (const id of ['json', 'text']) {
				const error = await caught(getTask(endpoint, id, { retry: FAST }));
				expect(error).toBeInstanceOf(ApiError);
				expect(error.message).toContain('[redacted]');
				expectNoKey(error);
				const apiError = toNodeApiError(TEST_NODE, error, { itemIndex: 0 });
				expectNoKey(apiError);
				expect(JSON.stringify((apiError as NodeApiError).errorResponse)).not.toContain(KEY);
			}
			// Network failures too (undici errors can describe sockets/headers).
			const refused = await caught(getTask({ baseUrl: 'http://127.0.0.1:1/api/v1', apiKey: KEY }, 'x', { retry: { ...FAST, maxAttempts: 2 } }));
			expect(refused.code).toBe('ECONNREFUSED');
			expectNoKey(refused);
		} finally {
			await server.close();
		}
	});

	it('a reset while the request body is still streaming is provably pre-acceptance: the submit is retried', async () => {
		const size = 8 * 1024 * 1024;
		const server = await rawServer((req, res, hit) => {
			if (hit === 1) {
				req.socket.destroy(); // cut the connection before reading the (large) body
				return;
			}
			void readBody(req).then((text) => {
				server.bodies.push(text);
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ request_id: 'req-ok', output: { task_id: 't-1', task_status: 'PENDING' } }));
			});
		});
		let opens = 0;
		const prefix = Buffer.from('{"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"image":"data:image/png;base64,');
		const suffix = Buffer.from('"},{"text":"x"}]}]},"parameters":{}}');
		const streaming: StreamingJsonBody = {
			kind: 'streaming-json',
			contentLength: prefix.length + size + suffix.length,
			async *open() {
				opens++;
				yield prefix;
				const chunk = Buffer.alloc(64 * 1024, 'A');
				for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
				yield suffix;
			},
			preview: () => ({ model: 'wan2.7-image', input: { messages: [{ role: 'user', content: [{ image: '<png>' }] }] } }),
		};
		try {
			const result = await submitTask({ baseUrl: `${server.url}/api/v1`, apiKey: KEY }, 'image-generation', streaming, {
				retry: FAST,
			});
			expect(result).toEqual({ taskId: 't-1', taskStatus: 'PENDING', requestId: 'req-ok' });
			expect(opens).toBe(2);
			expect(server.hits).toBe(2);
			expect(server.bodies[0].length).toBe(streaming.contentLength);
		} finally {
			await server.close();
		}
	});

	it('a failing body source is RequestBodyError: not retried, no task, source closed', async () => {
		const server = await rawServer((req, res) => {
			void readBody(req).then(() => {
				res.writeHead(500);
				res.end();
			});
			req.on('error', () => undefined);
		});
		let opens = 0;
		const failing: StreamingJsonBody = {
			kind: 'streaming-json',
			contentLength: 1000,
			async *open() {
				opens++;
				yield Buffer.from('{"model":"wan2.7-image","input":');
				throw new Error(`binary store unavailable (key ${KEY})`);
			},
			preview: () => ({ model: 'wan2.7-image' }),
		};
		try {
			const error = await caught(submitTask({ baseUrl: `${server.url}/api/v1`, apiKey: KEY }, 'image-generation', failing, { retry: FAST }));
			expect(error).toMatchObject({ code: 'RequestBodyError', taskMayExist: false, retryable: false });
			expect(error.message).toContain('binary store unavailable');
			expectNoKey(error);
			expect(opens).toBe(1);
		} finally {
			await server.close();
		}
	});

	it('download: http(s) only, no Authorization, XML errors mapped with an expiry hint', async () => {
		const authSeen: Array<string | undefined> = [];
		const server = await rawServer((req, res) => {
			authSeen.push(req.headers.authorization);
			if (req.url?.startsWith('/expired')) {
				res.writeHead(403, { 'content-type': 'application/xml' });
				res.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired.</Message><RequestId>oss-1</RequestId></Error>');
				return;
			}
			res.writeHead(200, { 'content-type': 'image/png', 'content-length': '4' });
			res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
		});
		try {
			const error = await caught(downloadResult(`${server.url}/expired/x.png?Expires=1&Signature=abc`, { retry: FAST }));
			expect(error).toMatchObject({ code: 'AccessDenied', httpStatus: 403, requestId: 'oss-1' });
			expect(error.hint).toMatch(/24 hours/);
			expect(server.hits).toBe(1);

			const ok = await downloadResult(`${server.url}/ok.png?Expires=1`);
			const parts: Buffer[] = [];
			for await (const chunk of ok.body) parts.push(Buffer.from(chunk));
			expect(Buffer.concat(parts)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
			expect(ok).toMatchObject({ contentType: 'image/png', contentLength: 4 });
			expect(authSeen).toEqual([undefined, undefined]);

			const file = await caught(downloadResult('file:///etc/passwd'));
			expect(file.code).toBe('InvalidArgument');
			expect(server.hits).toBe(2);
		} finally {
			await server.close();
		}
	});
});
