/**
 * Gateway emulator faults and the money they cost: arrival faults (429 with Retry-After, HTML 502,
 * reset) create nothing; after-the-work faults (5xx, reset mid-answer incl. mid-b64_json, an answer
 * slower than the client's timeout, a client that leaves during the work, fewer images) leave the
 * images generated and billed although the client never got them. No timing assertions: long work
 * is ended with completePending(), and tests wait on the emulator's own states.
 */
import http from 'node:http';

import { generation, KEY, post, PRO, setupGateway, until } from './emulator-gateway/fixtures';
import type { GatewayEmulator } from './emulator-gateway';

const emu = setupGateway();

/** A POST through node:http that reports how far the answer got before the connection died. */
function rawPost(gw: GatewayEmulator, body: unknown): Promise<{ status?: number; contentLength?: number; received: Buffer; error?: string }> {
	return new Promise((resolve) => {
		const chunks: Buffer[] = [];
		let status: number | undefined;
		let contentLength: number | undefined;
		const done = (error?: string) => resolve({ status, contentLength, received: Buffer.concat(chunks), error });
		const req = http.request(`${gw.apiUrl}/images/generations`, { method: 'POST', agent: false, headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } }, (res) => {
			status = res.statusCode;
			contentLength = Number(res.headers['content-length']);
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => done());
			res.on('error', (e) => done(e.message));
			res.on('aborted', () => done('aborted'));
		});
		req.on('error', (e) => done(e.message));
		req.end(JSON.stringify(body));
	});
}

describe('arrival faults: nothing is generated or billed', () => {
	test('429 with Retry-After in the OpenAI envelope, then the next request passes', async () => {
		emu.injectFault({ action: { type: 'http', status: 429, retryAfter: 7 } });
		const limited = await post(emu, generation());
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('7');
		expect(limited.body.error).toMatchObject({ code: 'Throttling.RateQuota', type: 'rate_limit_error' });
		expect(emu.counters()).toMatchObject({ throttled: 1, generationsStarted: 0, billedImages: 0 });
		expect((await post(emu, generation())).status).toBe(200);
		expect(emu.counters().billedImages).toBe(1);
	});

	test('a non-JSON 502 from a proxy', async () => {
		emu.injectFault({ action: { type: 'http', status: 502, contentType: 'text/html', body: '<html><body>Bad Gateway</body></html>' } });
		const res = await post(emu, generation());
		expect(res.status).toBe(502);
		expect(res.headers.get('content-type')).toBe('text/html');
		expect(res.text).toContain('Bad Gateway');
		expect(emu.counters()).toMatchObject({ generationsStarted: 0, billedImages: 0, rejected: 1 });
	});

	test('a reset before any answer', async () => {
		emu.injectFault({ action: { type: 'reset' } });
		await expect(post(emu, generation())).rejects.toThrow();
		expect(emu.counters()).toMatchObject({ generationRequests: 1, generationsStarted: 0, billedImages: 0, rejected: 1 });
		expect((await post(emu, generation())).status).toBe(200);
	});

	test('rules match by kind and model, and apply `times` times', async () => {
		emu.injectFault({ match: { model: PRO }, times: 2, action: { type: 'http', status: 503, code: 'ModelUnavailable' } });
		emu.injectFault({ match: { kind: 'models' }, action: { type: 'http', status: 500 } });
		expect((await post(emu, generation())).status).toBe(200);
		expect((await post(emu, generation({ model: PRO }))).body.error.code).toBe('ModelUnavailable');
		expect((await post(emu, generation({ model: PRO }))).status).toBe(503);
		expect((await post(emu, generation({ model: PRO }))).status).toBe(200);
		expect((await post(emu, undefined, { path: '/models', method: 'GET' })).status).toBe(500);
		expect((await post(emu, undefined, { path: '/models', method: 'GET' })).status).toBe(200);
		expect(emu.counters()).toMatchObject({ generationsCompleted: 2, billedImages: 2 });
	});

	test('HTML at a result URL (200 text/html), then the PNG', async () => {
		const res = await post(emu, generation());
		emu.injectFault({ action: { type: 'html' } });
		const html = await fetch(res.body.data[0].url);
		expect({ status: html.status, type: html.headers.get('content-type') }).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
		expect(await html.text()).toContain('<html>');
		const png = await fetch(res.body.data[0].url);
		expect(png.headers.get('content-type')).toBe('image/png');
		expect(emu.counters().downloads).toBe(2);
	});
});

describe('after the work: billed although the answer was lost', () => {
	test('a 5xx after the work was done', async () => {
		emu.injectFault({ action: { type: 'error-after-work', status: 500 } });
		const res = await post(emu, generation({ n: 3 }));
		expect(res.status).toBe(500);
		expect(res.body.error).toMatchObject({ code: 'InternalError', type: 'server_error' });
		expect(emu.counters()).toMatchObject({ generationsStarted: 1, generationsCompleted: 1, billedImages: 3, answersLost: 1 });
		expect(emu.generations()[0]).toMatchObject({ state: 'completed', billedImages: 3 });
	});

	test('an HTML 504 after the work was done', async () => {
		emu.injectFault({ action: { type: 'error-after-work', status: 504, body: '<html>504 Gateway Time-out</html>' } });
		const res = await post(emu, generation());
		expect(res.status).toBe(504);
		expect(res.text).toContain('Gateway Time-out');
		expect(emu.counters()).toMatchObject({ billedImages: 1, answersLost: 1 });
	});

	test('a reset in the middle of a b64_json answer: head and part of the base64 arrive, then the connection dies', async () => {
		emu.injectFault({ action: { type: 'reset-mid-answer' } });
		const res = await rawPost(emu, generation({ response_format: 'b64_json' }));
		expect(res.status).toBe(200);
		expect(res.error).toBeDefined();
		expect(res.received.length).toBeGreaterThan(0);
		expect(res.received.length).toBeLessThan(res.contentLength!);
		expect(res.received.toString()).toMatch(/"data":\[\{"b64_json":"[A-Za-z0-9+/]+$/);
		expect(emu.counters()).toMatchObject({ generationsCompleted: 1, billedImages: 1, answersLost: 1 });
		expect((await post(emu, generation())).status).toBe(200); // the emulator keeps serving
	});

	test('a reset before the first byte of the answer (fraction 0)', async () => {
		emu.injectFault({ action: { type: 'reset-mid-answer', fraction: 0 } });
		const res = await rawPost(emu, generation({ n: 2 }));
		expect(res.status).toBeUndefined();
		expect(res.error).toBeDefined();
		expect(emu.counters()).toMatchObject({ billedImages: 2, answersLost: 1 });
	});

	test('an answer slower than the client’s timeout: billed first, then held; the client gives up', async () => {
		emu.injectFault({ action: { type: 'slow-answer', ms: 600_000 } });
		const client = new AbortController();
		const answer = post(emu, generation({ n: 2 }), { signal: client.signal });
		await until(() => emu.counters().billedImages === 2);
		client.abort();
		await expect(answer).rejects.toThrow(/abort/i);
		await until(() => emu.generations()[0].clientGone);
		emu.completePending();
		await emu.idle();
		expect(emu.counters()).toMatchObject({ generationsCompleted: 1, billedImages: 2, answersLost: 1 });
		expect(emu.requests()[0].status).toBe(0); // never answered
	});

	test('the client times out during the work: the work goes on and is billed', async () => {
		emu.setTiming({ generationMs: 600_000 });
		const answer = post(emu, generation({ enable_sequential: true, n: 4 }), { signal: AbortSignal.timeout(50) });
		await emu.waitForGenerations(1);
		await expect(answer).rejects.toThrow();
		expect(emu.counters()).toMatchObject({ generationsStarted: 1, generationsCompleted: 0, billedImages: 0 });
		expect(emu.generations()[0].state).toBe('generating');
		await until(() => emu.generations()[0].clientGone);
		emu.completePending();
		await emu.idle();
		expect(emu.counters()).toMatchObject({ generationsStarted: 1, generationsCompleted: 1, billedImages: 4, answersLost: 1 });
		expect(emu.generations()[0]).toMatchObject({ state: 'completed', billedImages: 4, mode: 'image-set' });
	});

	test('fewer images than n (an upstream that chose fewer): only those come back and are billed', async () => {
		emu.injectFault({ action: { type: 'fewer-images', count: 2 } });
		const res = await post(emu, generation({ enable_sequential: true, n: 4 }));
		expect(res.status).toBe(200);
		expect(res.body.data).toHaveLength(2);
		expect(emu.counters()).toMatchObject({ billedImages: 2, answersLost: 0 });
	});

	test('two identical requests are two generations, both billed (no idempotency)', async () => {
		const body = generation({ seed: 5 });
		await post(emu, body);
		await post(emu, body);
		expect(emu.counters()).toMatchObject({ generationRequests: 2, generationsCompleted: 2, billedImages: 2 });
	});
});

test('bad fault rules are refused', () => {
	expect(() => emu.injectFault({ action: { type: 'http', status: 42 } })).toThrow('HTTP status');
	expect(() => emu.injectFault({ action: { type: 'reset-mid-answer', fraction: 1 } })).toThrow('fraction');
	expect(() => emu.injectFault({ action: { type: 'slow-answer', ms: -1 } })).toThrow('ms >= 0');
	expect(() => emu.injectFault({ match: { kind: 'poll' as never }, action: { type: 'reset' } })).toThrow('match.kind');
});
