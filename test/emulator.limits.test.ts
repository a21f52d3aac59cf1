/** Emulator: account limits — 5 submissions/s, 5 concurrent tasks, 20 task queries/s (DASHSCOPE_API.md §7). */
import { call, expectError, expectTask, msgBody, query, setupEmulator, smallPng, submit, syncCall } from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 100, runningMs: 10_000, syncDelayMs: 1 } });

const t2i = (model = 'wan2.7-image') => msgBody(model, 'a kite', [], { size: '1K' });

test('a 6th submission within one second → 429 Throttling.RateQuota with Retry-After; no task created', async () => {
	emu.setTiming({ runningMs: 10 }); // tasks end quickly: only the rate limit applies
	for (let i = 0; i < 5; i++) expectTask(await submit(emu, t2i()));
	const sixth = await submit(emu, t2i());
	expect(expectError(sixth, 429, 'Throttling.RateQuota')).toBe('Requests rate limit exceeded, please try again later.');
	expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
	expect(emu.counters()).toMatchObject({ submissions: 5, submitAttempts: 6, throttled: 1, rejected: 1 });
	emu.advanceClock(1001);
	expectTask(await submit(emu, t2i()));
});

test('the rate is per account and model; invalid requests do not consume it', async () => {
	emu.setTiming({ runningMs: 10 });
	for (let i = 0; i < 5; i++) expectTask(await submit(emu, t2i()));
	expectTask(await submit(emu, t2i('wan2.7-image-pro'))); // other model
	expectTask(await submit(emu, t2i(), { region: 'cn-beijing' })); // other account
	emu.advanceClock(1001);
	for (let i = 0; i < 3; i++) expectError(await submit(emu, msgBody('wan2.7-image', 'x', [], { n: 99 })), 400, 'InvalidParameter');
	for (let i = 0; i < 5; i++) expectTask(await submit(emu, t2i()));
});

test('sync calls count toward the submission rate', async () => {
	for (let i = 0; i < 5; i++) expect((await syncCall(emu, t2i())).status).toBe(200);
	expectError(await syncCall(emu, t2i()), 429, 'Throttling.RateQuota');
});

test("5 concurrent tasks per account+model; the 6th → 429 (policy 'reject') until one ends", async () => {
	for (let i = 0; i < 5; i++) {
		expectTask(await submit(emu, t2i()));
		emu.advanceClock(1001); // never hit the per-second rate
	}
	const sixth = await submit(emu, t2i());
	expect(expectError(sixth, 429, 'Throttling')).toMatch(/concurrent/);
	expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
	expectTask(await submit(emu, msgBody('wan2.6-image', 'x', [smallPng()], { n: 1 }))); // other model has its own slots
	emu.advanceClock(6000); // the first task (ran 100 + 10 000 ms from t0) is done now
	expectTask(await submit(emu, t2i()));
	expect(emu.counters().submissionsByModel).toEqual({ 'wan2.7-image': 6, 'wan2.6-image': 1 });
});

test('a canceled PENDING task frees its slot', async () => {
	emu.setTiming({ pendingMs: 60_000 });
	const ids: string[] = [];
	for (let i = 0; i < 5; i++) {
		ids.push(expectTask(await submit(emu, t2i())));
		emu.advanceClock(1001);
	}
	expectError(await submit(emu, t2i()), 429, 'Throttling');
	const cancel = await fetch(`${emu.baseUrl()}/tasks/${ids[0]}/cancel`, { method: 'POST', headers: { Authorization: 'Bearer sk-emu-ap-southeast-1' } });
	expect(cancel.status).toBe(200);
	expectTask(await submit(emu, t2i()));
});

test('20 task queries per second per key; the 21st → 429 Throttling.RateQuota', async () => {
	const id = expectTask(await submit(emu, t2i()));
	for (let i = 0; i < 20; i++) expect((await query(emu, id)).status).toBe(200);
	const over = await query(emu, id);
	expectError(over, 429, 'Throttling.RateQuota');
	expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
	expect((await query(emu, id, { region: 'cn-beijing' })).status).toBe(200); // another key
	emu.advanceClock(1001);
	expect((await query(emu, id)).status).toBe(200);
	expect(emu.counters()).toMatchObject({ queries: 23, throttled: 1 });
});

test('task-list reads count against the same 20/s query limit (its scope is UNCONFIRMED: the strict reading)', async () => {
	const id = expectTask(await submit(emu, t2i()));
	for (let i = 0; i < 15; i++) expect((await query(emu, id)).status).toBe(200);
	for (let i = 0; i < 5; i++) expect((await call(emu, '/tasks?page_no=1&page_size=10')).status).toBe(200);
	const over = await call(emu, '/tasks?page_no=1&page_size=10');
	expectError(over, 429, 'Throttling.RateQuota');
	expectError(await query(emu, id), 429, 'Throttling.RateQuota');
	emu.advanceClock(1001);
	expect((await call(emu, '/tasks?page_no=1&page_size=10')).status).toBe(200);
});

test('timing.listLagMs: the list shows each task as it was that long ago; a task query shows it as it is', async () => {
	emu.setTiming({ pendingMs: 0, runningMs: 1000, listLagMs: 5000 });
	const id = expectTask(await submit(emu, t2i()));
	emu.advanceClock(2000);
	expect((await query(emu, id)).body).toMatchObject({ output: { task_status: 'SUCCEEDED' } });
	const listed = (await call(emu, '/tasks?page_no=1&page_size=10')).body as { data: Array<{ task_id: string; status: string; end_time: string | null }> };
	expect(listed.data.find((t) => t.task_id === id)).toMatchObject({ status: 'RUNNING', end_time: null });
	emu.advanceClock(4100);
	const later = (await call(emu, '/tasks?page_no=1&page_size=10')).body as { data: Array<{ task_id: string; status: string }> };
	expect(later.data.find((t) => t.task_id === id)).toMatchObject({ status: 'SUCCEEDED' });
});
