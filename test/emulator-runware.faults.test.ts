/** Runware emulator: injected faults (before and after acceptance, failed and partial tasks, slow polls, HTML at a result URL), counters, request log, HTTP control API. */
import { randomUUID } from 'node:crypto';

import { download, expectError, getResponse, inference, KEY, post, setupRunware } from './emulator-runware/fixtures';

const emu = setupRunware({ timing: { queueMs: 1000, perImageMs: 1000, syncDelayMs: 0 } });

describe('arrival faults: nothing is created', () => {
	test.each([
		[402, 'insufficientCredits'],
		[429, 'rateLimitExceeded'],
		[500, 'timeoutProvider'],
		[503, 'providerUnavailable'],
		[504, 'failedTaskTimeout'],
	])('http %i answers Runware’s error body with %s', async (status, code) => {
		emu.injectFault({ match: { kind: 'inference' }, action: { type: 'http', status } });
		const task = inference({ deliveryMethod: 'async' });
		expectError(await post(emu, [task]), status, code);
		expect(emu.counters()).toMatchObject({ tasksCreated: 0, rejected: 1, throttled: status === 429 ? 1 : 0 });
		expect((await post(emu, [task])).status).toBe(200); // consumed: the retry goes through (no conflict: nothing was created)
	});

	test('http 401 with an empty body; explicit code and message; times', async () => {
		emu.injectFault({ action: { type: 'http', status: 401, emptyBody: true } });
		const empty = await post(emu, [inference()]);
		expect({ status: empty.status, text: empty.text }).toEqual({ status: 401, text: '' });
		emu.injectFault({ times: 2, action: { type: 'http', status: 400, code: 'contentPolicyViolation', message: 'blocked' } });
		expect(expectError(await post(emu, [inference()]), 400, 'contentPolicyViolation').message).toBe('blocked');
		expectError(await post(emu, [inference()]), 400, 'contentPolicyViolation');
		expect((await post(emu, [inference()])).status).toBe(200);
	});

	test('a non-JSON 502 page (replace-body)', async () => {
		emu.injectFault({ action: { type: 'replace-body', status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' } });
		const answer = await post(emu, [inference()]);
		expect({ status: answer.status, text: answer.text, type: answer.headers.get('content-type') }).toEqual({
			status: 502,
			text: '<html>Bad Gateway</html>',
			type: 'text/html',
		});
		expect(emu.counters().tasksCreated).toBe(0);
	});

	test('reset: the socket dies before acceptance; the same taskUUID then goes through', async () => {
		emu.injectFault({ match: { kind: 'inference' }, action: { type: 'reset' } });
		const task = inference();
		await expect(post(emu, [task])).rejects.toThrow();
		expect(emu.counters().tasksCreated).toBe(0);
		expect(emu.requests()[0].status).toBe(0);
		expect((await post(emu, [task])).status).toBe(200);
	});

	test('delay: the normal answer, later (also a slow getResponse)', async () => {
		const task = inference({ deliveryMethod: 'async' });
		emu.injectFault({ match: { kind: 'inference' }, action: { type: 'delay', ms: 50 } });
		expect((await post(emu, [task])).status).toBe(200);
		emu.injectFault({ match: { kind: 'poll', taskUUID: task.taskUUID as string }, action: { type: 'delay', ms: 50 } });
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.body.data![0].status).toBe('processing');
		expect(emu.counters()).toMatchObject({ tasksCreated: 1, polls: 1 });
	});

	test('a client that gives up during a delay still gets its task created (ambiguous): the retry is a conflict', async () => {
		const task = inference({ deliveryMethod: 'async' });
		emu.injectFault({ match: { kind: 'inference' }, action: { type: 'delay', ms: 300 } });
		await expect(post(emu, [task], { signal: AbortSignal.timeout(30) })).rejects.toThrow();
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(emu.counters().tasksCreated).toBe(1);
		expectError(await post(emu, [task]), 400, 'conflictTaskUUID');
		expect(emu.counters().tasksCreated).toBe(1);
	});

	test('faults match by model and taskUUID', async () => {
		const target = inference();
		emu.injectFault({ match: { taskUUID: target.taskUUID as string }, action: { type: 'http', status: 500 } });
		emu.injectFault({ match: { model: 'alibaba:wan@2.7-image-pro' }, action: { type: 'http', status: 503 } });
		expect((await post(emu, [inference()])).status).toBe(200);
		expectError(await post(emu, [target]), 500, 'timeoutProvider');
		expectError(await post(emu, [inference({ model: 'alibaba:wan@2.7-image-pro' })]), 503, 'providerUnavailable');
	});
});

describe('finished-only: getResponse lists only finished generations', () => {
	test('nothing finished → data []; one finished → only it; consumed per poll, then every generation again', async () => {
		const task = inference({ deliveryMethod: 'async', numberResults: 3 });
		await post(emu, [task]);
		emu.injectFault({ match: { kind: 'poll' }, times: 2, action: { type: 'finished-only' } });
		const none = await post(emu, [getResponse(task.taskUUID)]);
		expect({ status: none.status, data: none.body.data, errors: none.body.errors }).toEqual({ status: 200, data: [], errors: undefined });
		emu.advanceClock(2500); // result 1 is done at queueMs + perImageMs = 2000; results 2 and 3 at 3000 and 4000
		const one = await post(emu, [getResponse(task.taskUUID)]);
		expect(one.body.data).toEqual([expect.objectContaining({ taskUUID: task.taskUUID, status: 'success', imageURL: expect.any(String) })]);
		const all = await post(emu, [getResponse(task.taskUUID)]);
		expect(all.body.data!.map((item) => item.status)).toEqual(['success', 'processing', 'processing']);
		expect(emu.counters()).toMatchObject({ polls: 3, tasksCreated: 1 });
	});
});

describe('after acceptance: the task exists although the answer failed', () => {
	test('reset-after-accept: no answer; the retry with the same taskUUID is a conflict; getResponse finds the task', async () => {
		const task = inference({ deliveryMethod: 'async' });
		emu.injectFault({ action: { type: 'reset-after-accept' } });
		await expect(post(emu, [task])).rejects.toThrow();
		expect(emu.counters().tasksCreated).toBe(1);
		expectError(await post(emu, [task]), 400, 'conflictTaskUUID');
		emu.advanceClock(5000);
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.body.data![0]).toMatchObject({ taskUUID: task.taskUUID, status: 'success' });
		expect(emu.counters()).toMatchObject({ tasksCreated: 1, submissionsByTaskUUID: { [task.taskUUID as string]: 2 } });
	});

	test('http-after-accept 504 failedTaskTimeout on a sync call: the results are still readable', async () => {
		const task = inference();
		emu.injectFault({ action: { type: 'http-after-accept', status: 504 } });
		expect(expectError(await post(emu, [task]), 504, 'failedTaskTimeout').taskUUID).toBe(task.taskUUID);
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.body.data![0]).toMatchObject({ status: 'success', imageURL: expect.any(String) });
	});
});

describe('failed and partial tasks', () => {
	test('fail-task (async): every item ends status "error" with {code, message}; HTTP 200', async () => {
		const task = inference({ deliveryMethod: 'async', numberResults: 2 });
		emu.injectFault({ action: { type: 'fail-task', code: 'providerContentPolicyViolation', message: 'blocked by the provider' } });
		await post(emu, [task]);
		emu.advanceClock(5000);
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.status).toBe(200);
		expect(poll.body.data).toEqual(
			[0, 1].map(() => ({
				taskType: 'imageInference',
				taskUUID: task.taskUUID,
				status: 'error',
				error: { code: 'providerContentPolicyViolation', message: 'blocked by the provider' },
			})),
		);
	});

	test('fail-task with topLevel: the failures come in top-level errors, still HTTP 200', async () => {
		const task = inference({ deliveryMethod: 'async' });
		emu.injectFault({ action: { type: 'fail-task', topLevel: true } });
		await post(emu, [task]);
		emu.advanceClock(5000);
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.status).toBe(200);
		expect(poll.body.data).toEqual([]);
		expect(poll.body.errors).toEqual([expect.objectContaining({ code: 'providerError', taskUUID: task.taskUUID, taskType: 'imageInference' })]);
	});

	test('partial (async): the last results fail, the first succeed and download', async () => {
		const task = inference({ deliveryMethod: 'async', numberResults: 3, outputFormat: 'PNG' });
		emu.injectFault({ match: { taskUUID: task.taskUUID as string }, action: { type: 'partial', failed: 1 } });
		await post(emu, [task]);
		emu.advanceClock(10_000);
		const poll = await post(emu, [getResponse(task.taskUUID)]);
		expect(poll.body.data!.map((d) => d.status)).toEqual(['success', 'success', 'error']);
		expect((await download(poll.body.data![1].imageURL as string)).status).toBe(200);
	});

	test('partial (sync): HTTP 200 with data for the good results and errors for the failed ones', async () => {
		const task = inference({ numberResults: 3 });
		emu.injectFault({ action: { type: 'partial', failed: 2, code: 'providerError' } });
		const answer = await post(emu, [task]);
		expect(answer.status).toBe(200);
		expect(answer.body.data).toHaveLength(1);
		expect(answer.body.errors).toEqual([0, 1].map(() => expect.objectContaining({ code: 'providerError', taskUUID: task.taskUUID })));
	});

	test('fail-task (sync, one task): the error status of the first failure', async () => {
		emu.injectFault({ action: { type: 'fail-task' } });
		const answer = await post(emu, [inference()]);
		expect(answer.status).toBe(500);
		expect(answer.body.errors![0].code).toBe('providerError');
	});
});

test('an HTML page at a result URL (replace-body on kind result)', async () => {
	const url = (await post(emu, [inference()])).body.data![0].imageURL as string;
	emu.injectFault({ match: { kind: 'result' }, action: { type: 'replace-body', contentType: 'text/html', body: '<html>login</html>' } });
	const page = await download(url);
	expect({ status: page.status, type: page.contentType, text: page.bytes.toString() }).toEqual({ status: 200, type: 'text/html', text: '<html>login</html>' });
	expect((await download(url)).contentType).toBe('image/jpeg');
	expect(emu.counters().downloads).toBe(2);
});

test('counters and the request log', async () => {
	await post(emu, [{ taskType: 'authentication', apiKey: KEY }], { key: null });
	const task = inference({ deliveryMethod: 'async' });
	await post(emu, [task]);
	await post(emu, [task]);
	await post(emu, [getResponse(task.taskUUID)]);
	await post(emu, [inference()], { key: 'bad' });
	expect(emu.counters()).toMatchObject({
		requests: 5,
		submissions: 3,
		tasksCreated: 1,
		conflicts: 1,
		polls: 1,
		authTasks: 1,
		authFailures: 1,
		rejected: 2,
		tasksByModel: { 'alibaba:wan@2.7-image': 1 },
	});
	const log = emu.requests();
	expect(log.map((r) => [r.kind, r.status])).toEqual([
		['auth', 200],
		['inference', 200],
		['inference', 400],
		['poll', 200],
		['inference', 401],
	]);
	expect(log[1].body).toEqual([task]);
	expect(log[1].headers.authorization).toBe(`Bearer ${KEY}`);
});

test('the HTTP control API', async () => {
	const control = (path: string, init?: RequestInit) => fetch(`${emu.url}/__emulator/${path}`, init).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
	const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

	expect((await control('health')).body).toMatchObject({ ok: true, service: 'runware', apiUrl: emu.apiUrl });
	expect((await control('timing', json({ queueMs: 0, perImageMs: 0 }))).body).toMatchObject({ queueMs: 0, perImageMs: 0 });
	expect((await control('keys', json({ key: 'rw-added' }))).status).toBe(200);
	const task = inference({ deliveryMethod: 'async' });
	expect((await post(emu, [task], { key: 'rw-added' })).status).toBe(200);
	expect((await control(`tasks/${task.taskUUID}`)).body).toMatchObject({ taskUUID: task.taskUUID, apiKey: 'rw-added', statuses: ['success'] });
	expect((await control('tasks')).body).toHaveLength(1);
	expect((await control(`tasks/${randomUUID()}`)).status).toBe(404);

	expect((await control('faults', json({ action: { type: 'http', status: 503 } }))).body).toEqual({ ok: true, pending: 1 });
	expect((await control('faults')).body).toEqual([{ action: { type: 'http', status: 503 }, times: 1 }]);
	expect((await control('faults', json({ action: { type: 'explode' } }))).status).toBe(400);
	expect((await control('faults', { method: 'DELETE' })).body).toEqual({ ok: true });

	const before = (await control('clock')).body.now as number;
	expect((await control('clock', json({ advanceMs: 60_000 }))).body.now).toBeGreaterThanOrEqual(before + 60_000);
	expect((await control('counters')).body).toMatchObject({ tasksCreated: 1 });
	expect((await control('requests')).body).toHaveLength(1);

	expect((await control('reset', { method: 'POST' })).body).toEqual({ ok: true });
	expect((await control('counters')).body).toMatchObject({ tasksCreated: 0, requests: 0 });
	expect((await control('timing')).body).toMatchObject({ queueMs: 1000, perImageMs: 1000 });
	expectError(await post(emu, [inference()], { key: 'rw-added' }), 401, 'invalidApiKey'); // keys back to the start list
});
