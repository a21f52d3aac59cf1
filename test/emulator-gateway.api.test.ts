/**
 * Gateway emulator over real HTTP: Bearer auth, routes and their OpenAI error envelopes, both
 * response formats decoded to real PNGs of the requested size, expiring result URLs, the models
 * route (200 and the 404 "cannot verify" variant), counters, the request log and the control API.
 */
import { createHash } from 'node:crypto';

import { startGatewayEmulator } from './emulator-gateway';
import { dataUri, dimensions, expectError, generation, KEY, pngImage, post, PRO, setupGateway, STANDARD, toAnswer } from './emulator-gateway/fixtures';

const emu = setupGateway({ modelAliases: { 'wan-2.7-pro': 'wan2.7-image-pro' } });

describe('authentication', () => {
	test.each([
		['no Authorization header', null, undefined],
		['an unknown key', 'sk-not-a-key', undefined],
		['a Basic scheme', null, { Authorization: `Basic ${KEY}` }],
		['Bearer without a key', null, { Authorization: 'Bearer ' }],
	])('%s → 401 invalid_api_key, nothing generated', async (_name, key, headers) => {
		const res = await post(emu, generation(), { key, headers });
		expectError(res, 401, 'invalid_api_key', null);
		expect(res.body.error.type).toBe('authentication_error');
		expect(emu.counters()).toMatchObject({ authFailures: 1, generationsStarted: 0, billedImages: 0 });
	});

	test('a wrong key is never echoed back', async () => {
		const res = await post(emu, generation(), { key: 'sk-secret-value-123' });
		expect(res.status).toBe(401);
		expect(res.text).not.toContain('sk-secret-value-123');
	});

	test('auth comes before validation; keys added at run time work and are billed per key', async () => {
		expectError(await post(emu, { model: 'nope' }, { key: 'sk-late' }), 401, 'invalid_api_key', null);
		emu.addKey('sk-late');
		expect((await post(emu, generation({ n: 2 }), { key: 'sk-late' })).status).toBe(200);
		expect((await post(emu, generation())).status).toBe(200);
		expect(emu.counters().billedImagesByKey).toEqual({ 'sk-late': 2, [KEY]: 1 });
	});
});

describe('routes', () => {
	test('unknown path → 404 and wrong method → 405, both in the OpenAI envelope', async () => {
		expectError(await post(emu, generation(), { path: '/images/edits' }), 404, 'not_found', null);
		expectError(await post(emu, undefined, { path: '/images/generations', method: 'GET' }), 405, 'method_not_allowed', null);
		expectError(await post(emu, {}, { path: '/models', method: 'POST' }), 405, 'method_not_allowed', null);
		expect(emu.counters()).toMatchObject({ requests: 3, generationRequests: 0, rejected: 3 });
	});

	test('a trailing slash on the route is accepted', async () => {
		expect((await post(emu, generation(), { path: '/images/generations/' })).status).toBe(200);
	});
});

describe('answers', () => {
	test('url (default): {created, data:[{url, revised_prompt}]}; each URL serves the PNG of the requested size', async () => {
		const before = Math.floor(Date.now() / 1000);
		const res = await post(emu, generation({ n: 2, size: '1024x768', seed: 7 }));
		expect(res.status).toBe(200);
		expect(Number.isInteger(res.body.created) && res.body.created >= before).toBe(true);
		expect(res.body.data).toHaveLength(2);
		const pictures: Buffer[] = [];
		for (const entry of res.body.data) {
			expect(Object.keys(entry).sort()).toEqual(['revised_prompt', 'url']);
			expect(entry.revised_prompt).toBe('a glass teapot on a wooden table');
			expect(entry.url).toMatch(new RegExp(`^${emu.url}/results/[0-9a-f-]{36}\\.png\\?Expires=\\d+$`));
			const download = await fetch(entry.url);
			expect(download.status).toBe(200);
			expect(download.headers.get('content-type')).toBe('image/png');
			const bytes = Buffer.from(await download.arrayBuffer());
			expect(dimensions(bytes)).toEqual({ format: 'png', width: 1024, height: 768 });
			pictures.push(bytes);
		}
		// Two different pictures ("image 1 of 2", "image 2 of 2"), stable on a second download.
		expect(pictures[0].equals(pictures[1])).toBe(false);
		const again = Buffer.from(await (await fetch(res.body.data[0].url)).arrayBuffer());
		expect(again.equals(pictures[0])).toBe(true);
		expect(emu.counters()).toMatchObject({ generationsStarted: 1, generationsCompleted: 1, billedImages: 2, downloads: 3, answersLost: 0 });
	});

	test('b64_json: data:[{b64_json, revised_prompt}], decoded to a PNG of the requested size; same picture as the URL form', async () => {
		const body = generation({ size: '768x1024', seed: 11, response_format: 'b64_json' });
		const res = await post(emu, body);
		expect(res.status).toBe(200);
		expect(res.body.data).toHaveLength(1);
		expect(Object.keys(res.body.data[0]).sort()).toEqual(['b64_json', 'revised_prompt']);
		const png = Buffer.from(res.body.data[0].b64_json, 'base64');
		expect(dimensions(png)).toEqual({ format: 'png', width: 768, height: 1024 });
		const viaUrl = await post(emu, { ...body, response_format: 'url' });
		const downloaded = Buffer.from(await (await fetch(viaUrl.body.data[0].url)).arrayBuffer());
		expect(createHash('sha256').update(downloaded).digest('hex')).toBe(createHash('sha256').update(png).digest('hex'));
		// The log keeps the answer's shape without the megabytes.
		expect(emu.requests()[0].responseBody).toMatchObject({ data: [{ b64_json: expect.stringMatching(/^<\d+ base64 chars>$/) }] });
	});

	test('an edit draws at the input’s aspect; the picture changes with what was sent (watermark, inputs)', async () => {
		const image = dataUri(pngImage(600, 300));
		const plain = await post(emu, generation({ image, seed: 3, response_format: 'b64_json' }));
		const marked = await post(emu, generation({ image, seed: 3, watermark: true, response_format: 'b64_json' }));
		const a = Buffer.from(plain.body.data[0].b64_json, 'base64');
		const b = Buffer.from(marked.body.data[0].b64_json, 'base64');
		expect(dimensions(a)).toEqual({ format: 'png', width: 1448, height: 724 });
		expect(a.equals(b)).toBe(false);
		expect(emu.generations().map((g) => [g.mode, g.inputImages.length, g.watermark])).toEqual([
			['edit', 1, false],
			['edit', 1, true],
		]);
	});

	test('an image set returns n entries; a model alias resolves to the real model', async () => {
		const res = await post(emu, generation({ model: 'wan-2.7-pro', enable_sequential: true, n: 3 }));
		expect(res.body.data).toHaveLength(3);
		expect(emu.generations()[0]).toMatchObject({ requestedModel: 'wan-2.7-pro', model: PRO, mode: 'image-set', n: 3 });
		expect(emu.counters().billedImages).toBe(3);
	});

	test('result URLs expire (emulator clock) with an OSS-style 403; unknown results are 404', async () => {
		const res = await post(emu, generation());
		const url: string = res.body.data[0].url;
		expect((await fetch(url)).status).toBe(200);
		emu.advanceClock(24 * 3600 * 1000);
		const expired = await fetch(url);
		expect(expired.status).toBe(403);
		expect(await expired.text()).toContain('AccessDenied');
		expect((await fetch(`${emu.url}/results/00000000-0000-0000-0000-000000000000.png`)).status).toBe(404);
		expect(emu.counters().downloads).toBe(3);
	});

	test('revised_prompt can be configured empty (new-api style)', async () => {
		const gw = await startGatewayEmulator({ revisedPrompt: 'empty', timing: { generationMs: 0, perImageMs: 0 } });
		try {
			const res = await toAnswer(
				await fetch(`${gw.apiUrl}/images/generations`, {
					method: 'POST',
					headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
					body: JSON.stringify(generation()),
				}),
			);
			expect(res.body.data[0].revised_prompt).toBe('');
		} finally {
			await gw.close();
		}
	});
});

describe('GET {base}/models (credential test: creates nothing billable)', () => {
	test('lists the models (aliases too) for a valid key; 401 for a wrong one', async () => {
		const ok = await post(emu, undefined, { path: '/models', method: 'GET' });
		expect(ok.status).toBe(200);
		expect(ok.body.object).toBe('list');
		expect(ok.body.data.map((m) => m.id)).toEqual([STANDARD, PRO, 'wan-2.7-pro']);
		expectError(await post(emu, undefined, { path: '/models', method: 'GET', key: 'sk-wrong' }), 401, 'invalid_api_key', null);
		expect(emu.counters()).toMatchObject({ modelsCalls: 2, authFailures: 1, generationRequests: 0, generationsStarted: 0, billedImages: 0 });
	});

	test("modelsRoute 'absent': 404 whatever the key (a gateway without the route: 'cannot verify')", async () => {
		const gw = await startGatewayEmulator({ modelsRoute: 'absent' });
		try {
			for (const key of [KEY, 'sk-wrong']) {
				const res = await toAnswer(await fetch(`${gw.apiUrl}/models`, { headers: { Authorization: `Bearer ${key}` } }));
				expectError(res, 404, 'not_found', null);
			}
			expect(gw.counters()).toMatchObject({ modelsCalls: 2, authFailures: 0 });
		} finally {
			await gw.close();
		}
	});
});

describe('counters, log and control API over HTTP', () => {
	test('the request log records method, path, headers, body and status', async () => {
		await post(emu, generation({ n: 2 }));
		const [entry] = emu.requests();
		expect(entry).toMatchObject({ kind: 'generation', method: 'POST', path: '/v1/images/generations', status: 200, body: generation({ n: 2 }) });
		expect(entry.headers.authorization).toBe(`Bearer ${KEY}`);
	});

	test('/__emulator/… : health, counters, generations, faults, timing, clock, reset', async () => {
		const control = async (method: string, path: string, body?: unknown) => {
			const res = await fetch(`${emu.url}/__emulator/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
			// eslint-disable-next-line @typescript-eslint/no-explicit-any -- control answers of several shapes, checked by the assertions
			return { status: res.status, body: (await res.json()) as any };
		};
		expect((await control('GET', 'health')).body).toMatchObject({ ok: true, service: 'gateway', apiUrl: emu.apiUrl, dialect: 'seed' });
		expect((await control('GET', 'dialect')).body).toMatchObject({ imageField: 'image', sizeStyle: 'WxH' });
		await post(emu, generation());
		expect((await control('GET', 'counters')).body).toMatchObject({ generationsCompleted: 1, billedImages: 1 });
		const [g] = (await control('GET', 'generations')).body;
		expect((await control('GET', `generations/${g.id}`)).body).toMatchObject({ id: g.id, state: 'completed' });
		expect((await control('GET', 'generations/nope')).status).toBe(404);
		expect((await control('POST', 'faults', { action: { type: 'http', status: 503 } })).body).toEqual({ ok: true, pending: 1 });
		expect((await control('POST', 'faults', { action: { type: 'explode' } })).status).toBe(400);
		expect((await control('GET', 'faults')).body).toHaveLength(1);
		expect((await control('POST', 'timing', { generationMs: 5 })).body).toEqual({ generationMs: 5, perImageMs: 0 });
		expect((await control('POST', 'timing', { generationMs: -1 })).status).toBe(400);
		expect((await control('POST', 'clock', { advanceMs: 1000 })).body.now).toBeGreaterThan(Date.now());
		expect((await control('POST', 'keys', { key: 'sk-control' })).body).toEqual({ ok: true });
		expect((await control('POST', 'reset')).body).toEqual({ ok: true });
		expect((await control('GET', 'counters')).body).toMatchObject({ generationRequests: 0, billedImages: 0 });
		expect((await control('GET', 'faults')).body).toEqual([]);
		expect((await control('GET', 'timing')).body).toEqual({ generationMs: 0, perImageMs: 0 });
		expect((await control('GET', 'nope')).status).toBe(404);
	});
});
