/** Emulator: injected faults — HTTP errors, resets, ambiguous after-accept failures, delays, failed/partial/moderated tasks. */
import { call, expectError, expectTask, finish, i2iBody, msgBody, query, setupEmulator, smallPng, submit, syncCall } from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 1 } });

const t2i = (params: Record<string, unknown> = {}, model = 'wan2.7-image') => msgBody(model, 'a glass teapot', [], { size: '1K', ...params });
const listTotal = async () => (await call(emu, '/tasks')).body.total as number;

describe('arrival faults (before anything is created)', () => {
	test('http: answered with the status/code, Retry-After, no task; consumed after `times`', async () => {
		emu.injectFault({ match: { kind: 'submit' }, times: 2, action: { type: 'http', status: 503, retryAfterSeconds: 3 } });
		const first = await submit(emu, t2i());
		expect(expectError(first, 503, 'ModelUnavailable')).toBeTruthy();
		expect(first.headers.get('retry-after')).toBe('3');
		expectError(await submit(emu, t2i()), 503, 'ModelUnavailable');
		expectTask(await submit(emu, t2i()));
		expect(emu.counters()).toMatchObject({ submissions: 1, submitAttempts: 3, rejected: 2 });
		expect(await listTotal()).toBe(1);
	});

	test('http with explicit code and message; 429 counts as throttled', async () => {
		emu.injectFault({ action: { type: 'http', status: 429, code: 'Throttling.BurstRate', message: 'burst' } });
		const res = await submit(emu, t2i());
		expect(expectError(res, 429, 'Throttling.BurstRate')).toBe('burst');
		expect(emu.counters().throttled).toBe(1);
	});

	test('reset: the socket is destroyed without an answer and no task is created', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'reset' } });
		await expect(submit(emu, t2i())).rejects.toThrow();
		expect(emu.counters()).toMatchObject({ submissions: 0, rejected: 1 });
		expect(await listTotal()).toBe(0);
		expect(emu.requests().find((r) => r.kind === 'submit')?.status).toBe(0);
	});

	test('delay: a normal answer after the delay; a client timeout does not stop the creation', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'delay', ms: 300 } });
		const started = Date.now();
		expectTask(await submit(emu, t2i()));
		expect(Date.now() - started).toBeGreaterThanOrEqual(280);

		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'delay', ms: 300 } });
		await expect(submit(emu, t2i(), { signal: AbortSignal.timeout(50) })).rejects.toThrow();
		await new Promise((r) => setTimeout(r, 400));
		expect(emu.counters().submissions).toBe(2); // the slow request still created its task: ambiguous for the client
	});

	test('match by kind, taskId and model', async () => {
		const id = expectTask(await submit(emu, t2i()));
		emu.injectFault({ match: { kind: 'query', taskId: 'other' }, action: { type: 'http', status: 500 } });
		emu.injectFault({ match: { kind: 'query', taskId: id }, action: { type: 'http', status: 504 } });
		expectError(await query(emu, id), 504, 'RequestTimeOut');
		expect((await query(emu, id)).status).toBe(200);
		expectError(await query(emu, 'other'), 500, 'InternalError');

		emu.advanceClock(2000);
		emu.injectFault({ match: { model: 'wan2.6-image' }, action: { type: 'http', status: 500 } });
		expectTask(await submit(emu, t2i())); // 2.7 untouched
		expectError(await submit(emu, msgBody('wan2.6-image', 'x', [smallPng()])), 500, 'InternalError');
	});

	test("'any' matches API calls but not result downloads; 'result' targets downloads (OSS XML)", async () => {
		const done = await finish(emu, expectTask(await submit(emu, t2i({ size: '768*768' }))));
		const url = done.body.output.choices[0].message.content[0].image as string;
		emu.injectFault({ action: { type: 'http', status: 500 } });
		expect((await fetch(url)).status).toBe(200);
		expectError(await call(emu, '/tasks'), 500, 'InternalError');
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'http', status: 503 } });
		const res = await fetch(url);
		expect(res.status).toBe(503);
		expect(await res.text()).toMatch(/<Error>/);
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'reset' } });
		await expect(fetch(url).then((r) => r.arrayBuffer())).rejects.toThrow();
	});
});

describe('result download faults (around the download route; the image itself is untouched)', () => {
	const resultUrl = async () => {
		const done = await finish(emu, expectTask(await submit(emu, t2i({ size: '768*768' }))));
		return done.body.output.choices[0].message.content[0].image as string;
	};

	test('replace-body: 200 with the given body and type instead of the PNG', async () => {
		const url = await resultUrl();
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'replace-body', contentType: 'text/html', body: '<html>portal</html>' } });
		const res = await fetch(url);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('text/html');
		expect(await res.text()).toBe('<html>portal</html>');
		expect(Buffer.from(await (await fetch(url)).arrayBuffer()).subarray(1, 4).toString()).toBe('PNG'); // consumed
	});

	test('reset-mid-body: the full Content-Length is announced, keepBytes arrive, then the socket dies', async () => {
		const url = await resultUrl();
		const full = Buffer.from(await (await fetch(url)).arrayBuffer());
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'reset-mid-body', keepBytes: 100 } });
		const res = await fetch(url);
		expect(Number(res.headers.get('content-length'))).toBe(full.length);
		await expect(res.arrayBuffer()).rejects.toThrow();
	});

	test('truncate-body: no Content-Length, the first keepBytes bytes, a clean end', async () => {
		const url = await resultUrl();
		const full = Buffer.from(await (await fetch(url)).arrayBuffer());
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'truncate-body', keepBytes: 300 } });
		const res = await fetch(url);
		expect(res.headers.get('content-length')).toBeNull();
		const cut = Buffer.from(await res.arrayBuffer());
		expect(cut.equals(full.subarray(0, 300))).toBe(true);
	});

	test('tasks(): every created task, in creation order', async () => {
		const a = expectTask(await submit(emu, t2i()));
		const b = expectTask(await submit(emu, t2i()));
		expect(emu.tasks().map((t) => t.taskId)).toEqual([a, b]);
	});
});

describe('after-accept faults (the task exists, the answer is lost)', () => {
	test('reset-after-accept: no answer, but the task was created and runs', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
		await expect(submit(emu, t2i())).rejects.toThrow();
		expect(emu.counters().submissions).toBe(1);
		const list = await call(emu, '/tasks');
		expect(list.body.total).toBe(1);
		const done = await finish(emu, list.body.data[0].task_id);
		expect(done.body.output.task_status).toBe('SUCCEEDED');
	});

	test('http-after-accept: an error answer, but the task was created', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http-after-accept', status: 500 } });
		expectError(await submit(emu, t2i()), 500, 'InternalError');
		expect(emu.counters()).toMatchObject({ submissions: 1, rejected: 1 });
		expect(await listTotal()).toBe(1);
	});

	test('after-accept faults skip invalid requests (nothing is accepted)', async () => {
		emu.injectFault({ action: { type: 'http-after-accept', status: 502 } });
		expectError(await submit(emu, t2i({ n: 9 })), 400, 'InvalidParameter');
		expectError(await submit(emu, t2i()), 502, 'InternalError');
	});

	test('sync: the generation ran (syncAccepted) but the answer is lost', async () => {
		emu.injectFault({ match: { kind: 'sync' }, action: { type: 'reset-after-accept' } });
		await expect(syncCall(emu, t2i())).rejects.toThrow();
		expect(emu.counters()).toMatchObject({ syncCalls: 1, syncAccepted: 1 });
	});
});

describe('task outcome faults', () => {
	test('fail-task: FAILED with output.code/message (default InternalError.Algo)', async () => {
		emu.injectFault({ action: { type: 'fail-task' } });
		const done = await finish(emu, expectTask(await submit(emu, t2i())));
		const out = done.body.output;
		expect(out).toMatchObject({ task_status: 'FAILED', code: 'InternalError.Algo', message: expect.any(String), end_time: expect.any(String) });
		expect(out.choices).toBeUndefined();
		expect(done.body.usage).toBeUndefined();
		expect(done.body.code).toBeUndefined();

		emu.advanceClock(2000);
		emu.injectFault({ match: { model: 'wan2.5-i2i-preview' }, action: { type: 'fail-task', code: 'InternalError.Timeout', message: 'no result in 3 h' } });
		const five = await finish(emu, expectTask(await submit(emu, i2iBody('x', [smallPng()], { n: 2 }))));
		expect(five.body.output).toMatchObject({ task_status: 'FAILED', code: 'InternalError.Timeout', message: 'no result in 3 h', task_metrics: { TOTAL: 2, SUCCEEDED: 0, FAILED: 2 } });
	});

	test('partial (2.5): SUCCEEDED, failed results[] items carry code/message, metrics and usage count successes', async () => {
		emu.injectFault({ action: { type: 'partial', failed: 1 } });
		const done = await finish(emu, expectTask(await submit(emu, i2iBody('x', [smallPng()], { n: 3, size: '768*768' }))));
		const out = done.body.output;
		expect(out.task_status).toBe('SUCCEEDED');
		expect(out.task_metrics).toEqual({ TOTAL: 3, SUCCEEDED: 2, FAILED: 1 });
		expect(out.results[0].url).toEqual(expect.any(String));
		expect(out.results[2]).toEqual({ code: expect.any(String), message: expect.any(String) });
		expect(done.body.usage).toEqual({ image_count: 2 });
	});

	test('partial (choices family): failed images are left out; usage.image_count counts successes', async () => {
		emu.injectFault({ action: { type: 'partial', failed: 1 } });
		const done = await finish(emu, expectTask(await submit(emu, t2i({ n: 3 }))));
		expect(done.body.output.choices).toHaveLength(2);
		expect(done.body.usage.image_count).toBe(2);
		emu.advanceClock(2000);
		emu.injectFault({ action: { type: 'partial', failed: 2 } });
		const set = await finish(emu, expectTask(await submit(emu, t2i({ enable_sequential: true, n: 4 }))));
		expect(set.body.output.choices).toHaveLength(1);
		expect(set.body.output.choices[0].message.content).toHaveLength(2);
	});

	test('partial with every image failed → FAILED', async () => {
		emu.injectFault({ action: { type: 'partial', failed: 5 } });
		const done = await finish(emu, expectTask(await submit(emu, t2i({ n: 2 }))));
		expect(done.body.output.task_status).toBe('FAILED');
	});

	test('moderation at submit: 400 with the code, no task', async () => {
		emu.injectFault({ action: { type: 'moderation', code: 'DataInspectionFailed' } });
		expectError(await submit(emu, t2i()), 400, 'DataInspectionFailed');
		expect(emu.counters().submissions).toBe(0);
		emu.injectFault({ action: { type: 'moderation', code: 'IPInfringementSuspect', stage: 'submit' } });
		expectError(await submit(emu, t2i()), 400, 'IPInfringementSuspect');
	});

	test('moderation at task stage: the task ends FAILED with the code', async () => {
		emu.injectFault({ action: { type: 'moderation', code: 'IPInfringementSuspect', stage: 'task' } });
		const done = await finish(emu, expectTask(await submit(emu, t2i())));
		expect(done.body.output).toMatchObject({ task_status: 'FAILED', code: 'IPInfringementSuspect' });
	});

	test('sync calls: fail-task → 500 InternalError.Algo, moderation → 400, partial → fewer images', async () => {
		emu.injectFault({ match: { kind: 'sync' }, action: { type: 'fail-task' } });
		expectError(await syncCall(emu, t2i()), 500, 'InternalError.Algo');
		emu.injectFault({ match: { kind: 'sync' }, action: { type: 'moderation', code: 'DataInspectionFailed', stage: 'task' } });
		expectError(await syncCall(emu, t2i()), 400, 'DataInspectionFailed');
		emu.injectFault({ match: { kind: 'sync' }, action: { type: 'partial', failed: 1 } });
		const res = await syncCall(emu, t2i({ n: 2 }));
		expect(res.status).toBe(200);
		expect(res.body.usage.image_count).toBe(1);
	});

	test('bad rules are refused', () => {
		expect(() => emu.injectFault({ action: { type: 'nope' } } as never)).toThrow();
		expect(() => emu.injectFault({ action: { type: 'http' } } as never)).toThrow();
		expect(() => emu.injectFault({ action: { type: 'partial', failed: 0 } })).toThrow();
		expect(() => emu.injectFault({ times: 0, action: { type: 'reset' } })).toThrow();
		expect(() => emu.injectFault({ action: { type: 'replace-body' } } as never)).toThrow();
		expect(() => emu.injectFault({ action: { type: 'truncate-body', keepBytes: -1 } })).toThrow();
	});
});
