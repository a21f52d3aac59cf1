/** Emulator: auth, regions, header gates, routes and model routing (DASHSCOPE_API.md §1–3, §6, §9.7). */
import http from 'node:http';

import { EMULATOR_KEYS, startEmulator } from './emulator';
import {
	ASYNC,
	call,
	expectError,
	expectTask,
	GEN_PATH,
	I2I_PATH,
	i2iBody,
	msgBody,
	setupEmulator,
	smallPng,
	submit,
	SYNC_PATH,
	syncCall,
} from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 5 } });

const t2i = (model = 'wan2.7-image') => msgBody(model, 'a red bicycle', [], { size: '1K' });
const edit26 = () => msgBody('wan2.6-image', 'make it blue', [smallPng()], { n: 1 });

describe('authentication', () => {
	test('missing Authorization → 401 InvalidApiKey "No API-key provided."', async () => {
		const res = await submit(emu, t2i(), { key: null });
		expect(expectError(res, 401, 'InvalidApiKey')).toBe('No API-key provided.');
	});

	test.each([['Basic abc'], ['Bearer'], ['Bearer '], ['sk-emu-ap-southeast-1']])('garbled Authorization %p → No API-key provided.', async (auth) => {
		const res = await call(emu, GEN_PATH, { key: null, json: t2i(), headers: { ...ASYNC, Authorization: auth } });
		expect(expectError(res, 401, 'InvalidApiKey')).toBe('No API-key provided.');
	});

	test('unknown key → 401 Invalid API-key provided.', async () => {
		const res = await submit(emu, t2i(), { key: 'sk-nope' });
		expect(expectError(res, 401, 'InvalidApiKey')).toBe('Invalid API-key provided.');
	});

	test('a key is bound to its region', async () => {
		const res = await submit(emu, t2i(), { region: 'ap-southeast-1', key: EMULATOR_KEYS['cn-beijing'] });
		expect(expectError(res, 401, 'InvalidApiKey')).toBe('Invalid API-key provided.');
		expectTask(await submit(emu, t2i(), { region: 'cn-beijing' }));
		// Task queries too.
		const q = await call(emu, '/tasks/x', { region: 'cn-beijing', key: EMULATOR_KEYS['us-east-1'] });
		expectError(q, 401, 'InvalidApiKey');
	});

	test('addKey registers a key for one region; reset removes it', async () => {
		emu.addKey('sk-extra', 'cn-beijing');
		expectTask(await submit(emu, t2i(), { region: 'cn-beijing', key: 'sk-extra' }));
		expectError(await submit(emu, t2i(), { region: 'ap-southeast-1', key: 'sk-extra' }), 401, 'InvalidApiKey');
		emu.reset();
		expectError(await submit(emu, t2i(), { region: 'cn-beijing', key: 'sk-extra' }), 401, 'InvalidApiKey');
	});

	test('un-prefixed /api/v1 is the default region', async () => {
		const ok = await fetch(`${emu.url}/api/v1${GEN_PATH}`, {
			method: 'POST',
			headers: { ...ASYNC, Authorization: `Bearer ${EMULATOR_KEYS['ap-southeast-1']}`, 'Content-Type': 'application/json' },
			body: JSON.stringify(t2i()),
		});
		expect(ok.status).toBe(200);
		expect(emu.baseUrl()).toBe(`${emu.url}/ap-southeast-1/api/v1`);
		const other = await startEmulator({ defaultRegion: 'cn-beijing' });
		try {
			expect(other.baseUrl()).toBe(`${other.url}/cn-beijing/api/v1`);
			const res = await fetch(`${other.url}/api/v1/tasks/abc`, { headers: { Authorization: `Bearer ${EMULATOR_KEYS['cn-beijing']}` } });
			expect(res.status).toBe(200);
			const wrong = await fetch(`${other.url}/api/v1/tasks/abc`, { headers: { Authorization: `Bearer ${EMULATOR_KEYS['ap-southeast-1']}` } });
			expect(wrong.status).toBe(401);
		} finally {
			await other.close();
		}
	});
});

describe('sync/async header gates', () => {
	test('async routes require X-DashScope-Async: enable', async () => {
		const res = await call(emu, GEN_PATH, { json: t2i() });
		expect(expectError(res, 403, 'AccessDenied')).toBe('current user api does not support synchronous calls');
		const res25 = await call(emu, I2I_PATH, { json: i2iBody('x', [smallPng()]) });
		expect(expectError(res25, 403, 'AccessDenied')).toBe('current user api does not support synchronous calls');
		const wrongValue = await call(emu, GEN_PATH, { json: t2i(), headers: { 'X-DashScope-Async': 'disable' } });
		expectError(wrongValue, 403, 'AccessDenied');
	});

	test('header names are case-insensitive', async () => {
		expectTask(await call(emu, GEN_PATH, { json: t2i(), headers: { 'x-dashscope-async': 'enable' } }));
		expectTask(await call(emu, GEN_PATH, { json: t2i(), headers: { 'X-DASHSCOPE-ASYNC': 'enable' } }));
	});

	test('the sync route refuses the async header', async () => {
		const res = await call(emu, SYNC_PATH, { json: t2i(), headers: ASYNC });
		expect(expectError(res, 403, 'AccessDenied')).toBe('Current user api does not support asynchronous calls');
		const ok = await syncCall(emu, t2i());
		expect(ok.status).toBe(200);
	});

	test('Frankfurt is async-only', async () => {
		const res = await syncCall(emu, edit26(), { region: 'eu-central-1' });
		expect(expectError(res, 403, 'AccessDenied')).toBe('current user api does not support synchronous calls');
		expectTask(await submit(emu, edit26(), { region: 'eu-central-1' }));
	});
});

describe('model availability and routing', () => {
	test('Virginia and Frankfurt serve only wan2.6-image', async () => {
		for (const region of ['us-east-1', 'eu-central-1'] as const) {
			expectError(await submit(emu, t2i('wan2.7-image'), { region }), 404, 'ModelNotFound');
			expectError(await submit(emu, t2i('wan2.7-image-pro'), { region }), 404, 'ModelNotFound');
			expectError(await submit(emu, i2iBody('x', [smallPng()]), { region }), 404, 'ModelNotFound');
			expectTask(await submit(emu, edit26(), { region }));
		}
		expect((await syncCall(emu, edit26(), { region: 'us-east-1' })).status).toBe(200);
	});

	test('Beijing and Singapore serve all four models', async () => {
		for (const region of ['cn-beijing', 'ap-southeast-1'] as const) {
			expectTask(await submit(emu, t2i('wan2.7-image'), { region }));
			expectTask(await submit(emu, t2i('wan2.7-image-pro'), { region }));
			expectTask(await submit(emu, edit26(), { region }));
			expectTask(await submit(emu, i2iBody('x', [smallPng()], { n: 1 }), { region }));
			emu.advanceClock(2000); // keep clear of the 5/s and 5-concurrent limits
		}
	});

	test('a model on another family’s route is rejected', async () => {
		expectError(await call(emu, GEN_PATH, { json: i2iBody('x', [smallPng()]), headers: ASYNC }), 400, 'InvalidParameter');
		expectError(await syncCall(emu, i2iBody('x', [smallPng()])), 400, 'InvalidParameter');
		expectError(await call(emu, I2I_PATH, { json: t2i(), headers: ASYNC }), 400, 'InvalidParameter');
		expectError(await call(emu, '/services/aigc/text2image/image-synthesis', { json: i2iBody('x', [smallPng()]), headers: ASYNC }), 400, 'InvalidParameter');
	});

	test('unknown, missing and malformed model', async () => {
		expectError(await submit(emu, t2i('wan9-image')), 404, 'ModelNotFound');
		expectError(await submit(emu, { input: t2i().input, parameters: {} }), 400, 'BadRequest.EmptyModel');
		expectError(await submit(emu, { ...t2i(), model: 7 }), 400, 'InvalidParameter');
	});

	test('malformed bodies', async () => {
		expectError(await submit(emu, { model: 'wan2.7-image', parameters: {} }), 400, 'BadRequest.EmptyInput');
		expectError(await call(emu, GEN_PATH, { raw: '{"model":', headers: { ...ASYNC, 'Content-Type': 'application/json' } }), 400, 'InvalidParameter');
		expectError(await call(emu, GEN_PATH, { raw: JSON.stringify(t2i()), headers: { ...ASYNC, 'Content-Type': 'text/plain' } }), 400, 'InvalidParameter');
		expectError(await call(emu, GEN_PATH, { raw: '[1,2]', headers: { ...ASYNC, 'Content-Type': 'application/json' } }), 400, 'InvalidParameter');
		expectError(await submit(emu, { ...t2i(), parameters: 'n=1' }), 400, 'InvalidParameter');
	});

	test('parameters may be {} or missing; unknown parameter keys are tolerated', async () => {
		const body = t2i();
		expectTask(await submit(emu, { ...body, parameters: {} }));
		const noParams: Record<string, unknown> = { ...body };
		delete noParams.parameters;
		expectTask(await submit(emu, noParams));
		expectTask(await submit(emu, { ...body, parameters: { is_async: true, stream: true, foo: { bar: 1 } } }));
		emu.advanceClock(2000);
		// Raw UTF-8 JSON (no ASCII escaping), Python-SDK key order, charset in Content-Type.
		const raw = `{"model": "wan2.7-image", "parameters": {"n": 1, "is_async": true, "size": "1K"}, "input": {"messages": [{"role": "user", "content": [{"text": "一只红色的自行车"}]}]}}`;
		expectTask(await call(emu, GEN_PATH, { raw, headers: { ...ASYNC, 'Content-Type': 'application/json; charset=utf-8' } }));
	});

	test('unknown paths and methods → 404 url error', async () => {
		const res = await call(emu, '/services/aigc/nope');
		expect(expectError(res, 404, 'InvalidParameter')).toBe('url error, please check url!');
		expectError(await call(emu, GEN_PATH, { method: 'GET' }), 404, 'InvalidParameter');
		const hk = await fetch(`${emu.url}/cn-hongkong/api/v1/tasks/x`, { headers: { Authorization: 'Bearer sk-emu-ap-southeast-1' } });
		expect(hk.status).toBe(404);
	});
});

describe('connections', () => {
	test('keep-alive sockets are reused and close() does not hang on them', async () => {
		const other = await startEmulator();
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
		const get = () =>
			new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
				const req = http.get(`${other.baseUrl()}/tasks/abc`, { agent, headers: { Authorization: `Bearer ${EMULATOR_KEYS['ap-southeast-1']}` } }, (res) => {
					res.resume();
					res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
				});
				req.on('error', reject);
			});
		const first = await get();
		const second = await get();
		expect(first).toEqual({ status: 200, reused: false });
		expect(second).toEqual({ status: 200, reused: true });
		const started = Date.now();
		await other.close(); // the agent still holds an idle keep-alive socket
		expect(Date.now() - started).toBeLessThan(1000);
		agent.destroy();
	});
});
