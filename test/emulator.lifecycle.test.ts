/** Emulator: task lifecycle, cancel, UNKNOWN/expiry, list, sync timing, queue policy (DASHSCOPE_API.md §2, §5.3–5.8). */
import { startEmulator } from './emulator';
import { call, expectError, expectTask, finish, i2iBody, msgBody, query, setupEmulator, smallPng, submit, syncCall } from './emulator/fixtures';

const TS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
const DAY = 24 * 3600 * 1000;

const emu = setupEmulator({ timing: { pendingMs: 1000, runningMs: 2000, syncDelayMs: 150 } });

const t2i = (params: Record<string, unknown> = {}) => msgBody('wan2.7-image', 'a lighthouse', [], { size: '1K', ...params });

describe('lifecycle by the emulator clock', () => {
	test('PENDING → RUNNING → SUCCEEDED with documented fields', async () => {
		const created = await submit(emu, t2i());
		expect(Object.keys(created.body).sort()).toEqual(['output', 'request_id']);
		const id = expectTask(created);

		const pending = await query(emu, id);
		expect(pending.status).toBe(200);
		expect(pending.body.output).toEqual({ task_id: id, task_status: 'PENDING', submit_time: expect.stringMatching(TS) });

		emu.advanceClock(1000);
		const running = (await query(emu, id)).body.output;
		expect(running.task_status).toBe('RUNNING');
		expect(running.scheduled_time).toMatch(TS);
		expect(running.end_time).toBeUndefined();

		emu.advanceClock(2000);
		const done = await query(emu, id);
		const out = done.body.output;
		expect(out.task_status).toBe('SUCCEEDED');
		expect(out.finished).toBe(true);
		expect(out.end_time).toMatch(TS);
		expect(out.end_time > out.scheduled_time && out.scheduled_time > out.submit_time).toBe(true);
		expect(out.choices).toEqual([
			{ finish_reason: 'stop', message: { role: 'assistant', content: [{ image: expect.stringContaining('.png?Expires='), type: 'image' }] } },
		]);
		expect(done.body.usage).toMatchObject({ image_count: 1, size: '1024*1024' });
		expect(typeof done.body.request_id).toBe('string');
		expect(emu.task(id)).toMatchObject({ status: 'SUCCEEDED', producedImages: 1, resultUrls: [out.choices[0].message.content[0].image] });
	});

	test('real time also drives the lifecycle', async () => {
		emu.setTiming({ pendingMs: 20, runningMs: 40 });
		const id = expectTask(await submit(emu, t2i()));
		await new Promise((r) => setTimeout(r, 120));
		expect((await query(emu, id)).body.output.task_status).toBe('SUCCEEDED');
	});

	test('a prompt token sets that task’s running time; other tasks keep timing.runningMs', async () => {
		const long = expectTask(await submit(emu, msgBody('wan2.7-image', 'a lighthouse [emulator:running-ms=7000]', [], { size: '1K' })));
		const plain = expectTask(await submit(emu, t2i()));
		emu.advanceClock(1000 + 2000); // pendingMs + the default runningMs
		expect((await query(emu, plain)).body.output.task_status).toBe('SUCCEEDED');
		expect((await query(emu, long)).body.output.task_status).toBe('RUNNING');
		// Real milliseconds also pass between the calls: a margin either side of the 7 s end.
		emu.advanceClock(4800); // 200 ms before pendingMs + 7000
		expect((await query(emu, long)).body.output.task_status).toBe('RUNNING');
		emu.advanceClock(400);
		expect((await query(emu, long)).body.output.task_status).toBe('SUCCEEDED');
		const t = emu.task(long)!;
		expect(t.endTime! - t.scheduledTime!).toBe(7000);
	});

	test('2.5 PENDING/RUNNING carry zeroed task_metrics', async () => {
		const id = expectTask(await submit(emu, i2iBody('x', [smallPng()], { n: 2 })));
		expect((await query(emu, id)).body.output.task_metrics).toEqual({ TOTAL: 2, SUCCEEDED: 0, FAILED: 0 });
		emu.advanceClock(1500);
		const running = (await query(emu, id)).body.output;
		expect(running.task_status).toBe('RUNNING');
		expect(running.task_metrics).toEqual({ TOTAL: 2, SUCCEEDED: 0, FAILED: 0 });
	});

	test('unknown ids read UNKNOWN with HTTP 200', async () => {
		const res = await query(emu, 'no-such-task');
		expect(res.status).toBe(200);
		expect(res.body.output).toEqual({ task_id: 'no-such-task', task_status: 'UNKNOWN' });
	});

	test('a task older than 24 h reads UNKNOWN', async () => {
		const id = expectTask(await submit(emu, t2i()));
		emu.advanceClock(DAY - 1000);
		expect((await query(emu, id)).body.output.task_status).toBe('SUCCEEDED');
		emu.advanceClock(1001);
		expect((await query(emu, id)).body.output).toEqual({ task_id: id, task_status: 'UNKNOWN' });
		expect(emu.task(id)).toMatchObject({ expired: true, status: 'SUCCEEDED' });
	});

	test('tasks are private to the account (key) that created them', async () => {
		emu.addKey('sk-other-account', 'ap-southeast-1');
		const id = expectTask(await submit(emu, t2i()));
		expect((await query(emu, id, { key: 'sk-other-account' })).body.output.task_status).toBe('UNKNOWN');
		expect((await query(emu, id)).body.output.task_status).toBe('PENDING');
	});

	test('timing changes apply to tasks submitted afterwards', async () => {
		const before = expectTask(await submit(emu, t2i()));
		emu.setTiming({ pendingMs: 10_000 });
		const after = expectTask(await submit(emu, t2i()));
		emu.advanceClock(1500);
		expect((await query(emu, before)).body.output.task_status).toBe('RUNNING');
		expect((await query(emu, after)).body.output.task_status).toBe('PENDING');
	});
});

describe('cancel (PENDING only)', () => {
	test('cancel a PENDING task: no body, no Content-Type → 200 {request_id}; then CANCELED', async () => {
		const id = expectTask(await submit(emu, t2i()));
		const res = await fetch(`${emu.baseUrl()}/tasks/${id}/cancel`, {
			method: 'POST',
			headers: { Authorization: 'Bearer sk-emu-ap-southeast-1', 'Content-Length': '0' },
		});
		expect(res.status).toBe(200);
		expect(Object.keys((await res.json()) as object)).toEqual(['request_id']);
		const out = (await query(emu, id)).body.output;
		expect(out.task_status).toBe('CANCELED');
		expect(out.end_time).toMatch(TS);
		emu.advanceClock(10_000);
		expect((await query(emu, id)).body.output.task_status).toBe('CANCELED');
		expect(emu.counters().cancels).toBe(1);
	});

	test('RUNNING, finished, already canceled and unknown tasks cannot be canceled', async () => {
		const id = expectTask(await submit(emu, t2i()));
		emu.advanceClock(1000);
		const running = await call(emu, `/tasks/${id}/cancel`, { method: 'POST' });
		expect(expectError(running, 400, 'UnsupportedOperation')).toMatch(/RUNNING/);
		emu.advanceClock(5000);
		expectError(await call(emu, `/tasks/${id}/cancel`, { method: 'POST' }), 400, 'UnsupportedOperation');
		expectError(await call(emu, '/tasks/nope/cancel', { method: 'POST' }), 400, 'UnsupportedOperation');
		const second = expectTask(await submit(emu, t2i()));
		expect((await call(emu, `/tasks/${second}/cancel`, { method: 'POST' })).status).toBe(200);
		expectError(await call(emu, `/tasks/${second}/cancel`, { method: 'POST' }), 400, 'UnsupportedOperation');
	});
});

describe('list', () => {
	test('account tasks, newest first, with filters and pagination', async () => {
		const a = expectTask(await submit(emu, t2i()));
		emu.advanceClock(10);
		const b = expectTask(await submit(emu, msgBody('wan2.6-image', 'x', [smallPng()], { n: 1 })));
		emu.advanceClock(10);
		const c = expectTask(await submit(emu, t2i()));
		await call(emu, `/tasks/${c}/cancel`, { method: 'POST' });
		expectTask(await submit(emu, t2i(), { region: 'cn-beijing' })); // other account/region

		const all = await call(emu, '/tasks?page_no=1&page_size=10');
		expect(all.status).toBe(200);
		expect(all.body).toMatchObject({ total: 3, total_page: 1, page_no: 1, page_size: 10 });
		expect(all.body.data.map((d: { task_id: string }) => d.task_id)).toEqual([c, b, a]);
		expect(Object.keys(all.body.data[0]).sort()).toEqual(
			['api_key_id', 'caller_parent_id', 'caller_uid', 'end_time', 'gmt_create', 'model_name', 'region', 'request_id', 'start_time', 'status', 'task_id', 'user_api_unique_key'].sort(),
		);
		const page2 = await call(emu, '/tasks?page_no=2&page_size=2');
		expect(page2.body).toMatchObject({ total: 3, total_page: 2, page_no: 2, page_size: 2 });
		expect(page2.body.data.map((d: { task_id: string }) => d.task_id)).toEqual([a]);
		const byModel = await call(emu, '/tasks?model_name=wan2.6-image');
		expect(byModel.body.data.map((d: { task_id: string }) => d.task_id)).toEqual([b]);
		const canceled = await call(emu, '/tasks?status=CANCELED');
		expect(canceled.body.data.map((d: { task_id: string }) => d.task_id)).toEqual([c]);
		expect(emu.counters().lists).toBe(4);
	});

	test('bad list parameters', async () => {
		expectError(await call(emu, '/tasks?page_size=0'), 400, 'InvalidParameter');
		expectError(await call(emu, '/tasks?page_no=x'), 400, 'InvalidParameter');
		expectError(await call(emu, '/tasks?start_time=2026-01-01'), 400, 'InvalidParameter');
		expectError(await call(emu, '/tasks?status=DONE'), 400, 'InvalidParameter');
		expect((await call(emu, '/tasks?start_time=20200101000000&end_time=20991231235959')).status).toBe(200);
	});
});

describe('sync calls', () => {
	test('answer after syncDelayMs with the §5.1 shape; no task visible at /tasks', async () => {
		const started = Date.now();
		const res = await syncCall(emu, t2i({ n: 1 }));
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(res.status).toBe(200);
		expect(Object.keys(res.body).sort()).toEqual(['output', 'request_id', 'usage']);
		expect(res.body.output.finished).toBe(true);
		expect(res.body.output.choices[0].message.content[0]).toEqual({ image: expect.stringContaining('.png?Expires='), type: 'image' });
		expect(res.body.usage).toEqual({ image_count: 1, size: '1024*1024', input_tokens: expect.any(Number), output_tokens: 2, total_tokens: expect.any(Number) });
		expect((await call(emu, '/tasks')).body.total).toBe(0);
		expect(emu.counters()).toMatchObject({ syncCalls: 1, syncAccepted: 1, submissions: 0 });
	});
});

describe("concurrencyPolicy 'queue'", () => {
	test('a 6th concurrent task stays PENDING until a slot frees', async () => {
		const q = await startEmulator({ concurrencyPolicy: 'queue', timing: { pendingMs: 1000, runningMs: 5000 } });
		try {
			const busy: string[] = [];
			for (let i = 0; i < 5; i++) busy.push(expectTask(await submit(q, t2i())));
			q.advanceClock(1001); // out of the 5/s window
			const sixth = expectTask(await submit(q, t2i())); // all five slots busy until +6000
			q.advanceClock(500);
			expect((await query(q, busy[0])).body.output.task_status).toBe('RUNNING');
			expect((await query(q, sixth)).body.output.task_status).toBe('PENDING');
			q.advanceClock(5000); // ≈+6500: the five are done; the sixth was admitted at +6000 and is PENDING until +7000
			expect((await query(q, busy[4])).body.output.task_status).toBe('SUCCEEDED');
			expect((await query(q, sixth)).body.output.task_status).toBe('PENDING');
			q.advanceClock(1000);
			expect((await query(q, sixth)).body.output.task_status).toBe('RUNNING');
			expect((await finish(q, sixth)).body.output.task_status).toBe('SUCCEEDED');
			expect(q.counters().throttled).toBe(0);
		} finally {
			await q.close();
		}
	});
});
