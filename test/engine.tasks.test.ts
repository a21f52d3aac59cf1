/**
 * Task life cycle through the real engine: Submit Only → Wait for Task, Cancel Task, partial success,
 * FAILED, UNKNOWN, timeouts (with and without cancelling a queued task) and stopping the execution.
 */
import type { IBinaryData, IDataObject } from 'n8n-workflow';

import { editBinary, setupEngine } from './fixtures/engine';
import { KEY, REGION, ROUTES, expectImageItems, lastQuery, onlySubmit, png, submits, submittedTaskId } from './fixtures/images';

const { emu, store, run } = setupEngine({ options: { fileNameTemplate: '{{model}}-{{item}}-{{index}}-{{taskId}}.{{ext}}' } });

const generate = (extra: IDataObject = {}): IDataObject => ({
	operation: 'generateImage',
	model: 'wan2.7-image',
	prompt: 'a small green cube',
	size: 'custom',
	customSize: '768*768',
	...extra,
});

/** Runs a generate that must end in an error after its one submit; returns the error and that task's ID. */
async function failedGenerate(extra: IDataObject = {}) {
	const result = await run(generate(extra));
	expect(result.status).toBe('error');
	return { error: result.error, taskId: submittedTaskId(submits(emu)[0]) };
}

/** Waits (real time) until the emulator's task reaches `status`. */
async function untilStatus(taskId: string, status: string, withinMs = 3000): Promise<void> {
	const end = Date.now() + withinMs;
	while (emu.task(taskId)?.status !== status) {
		if (Date.now() > end) throw new Error(`task ${taskId} is ${emu.task(taskId)?.status}, not ${status}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** The fields of an output item that belong to one particular task run, not to what was asked. */
const PER_RUN = ['taskId', 'requestId', 'url', 'urlsExpireAt', 'timings'];
const withoutRunFields = (json: IDataObject) => Object.fromEntries(Object.entries(json).filter(([key]) => !PER_RUN.includes(key)));

describe('Submit Only → Wait for Task', () => {
	test('the second run collects the task IDs from the first run and outputs what a waiting run gives', async () => {
		const inputs = [png(500, 400, 1), png(400, 500, 2)];
		const binaries: IBinaryData[] = [];
		for (const [i, bytes] of inputs.entries()) binaries.push(await store.store(bytes, 'image/png', `in${i}.png`));
		const items = binaries.map((data, i) => ({ json: { prompt: `edit number ${i + 1}` }, binary: { data } }));
		const edit = editBinary('wan2.7-image-pro', '={{ $json.prompt }}', { size: 'custom', customSize: '768*768', numberOfImages: 2, modelOptions: { seed: 77 } });

		// 1. Submit only: one item per input item with the task ID, at once (no queries, no downloads).
		const submitted = await run({ ...edit, runMode: 'submit' }, items);
		expect(submitted.status).toBe('success');
		expect(emu.requests().map((r) => r.kind)).toEqual(['submit', 'submit']);
		const submitAnswers = submits(emu).map((r) => r.responseBody as { request_id: string; output: { task_id: string; task_status: string } });
		expect(submitted.items).toHaveLength(2);
		for (const [i, item] of submitted.items.entries()) {
			const answer = submitAnswers.find((a) => a.output.task_id === item.json.taskId)!;
			expect(answer).toBeDefined();
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.binary).toBeUndefined();
			expect(item.json).toMatchObject({
				taskId: answer.output.task_id,
				status: answer.output.task_status,
				requestId: answer.request_id,
				model: 'wan2.7-image-pro',
				prompt: `edit number ${i + 1}`,
				operation: 'editImage',
				region: REGION,
			});
			// Task IDs are valid for 24 h (§7).
			expect(Date.parse(item.json.expiresAt as string) - Date.parse(item.json.submittedAt as string)).toBe(24 * 3600 * 1000);
		}

		// 2. Wait for Task, fed with the first run's output items.
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 500 } }); // would show up if it re-submitted
		const waited = await run({ operation: 'waitForTask', taskIds: '={{ $json.taskId }}' }, submitted.items);
		emu.clearFaults();
		expect(waited.status).toBe('success');
		expect(submits(emu)).toHaveLength(2);
		expect(waited.items).toHaveLength(4);

		// 3. The same two edits as one waiting run (same seed and prompts, so the emulator renders the same pixels).
		const direct = await run(edit, items);
		expect(direct.status).toBe('success');
		expect(direct.items).toHaveLength(4);

		for (let i = 0; i < 2; i++) {
			const taskId = submitted.items[i].json.taskId as string;
			const fromWait = waited.items.slice(i * 2, i * 2 + 2);
			await expectImageItems(store, emu, fromWait, {
				taskId,
				model: 'wan2.7-image-pro',
				prompt: `edit number ${i + 1}`,
				itemIndex: i,
				count: 2,
				fileName: (index) => `wan2.7-image-pro-${i + 1}-${index}-${taskId}.png`,
			});
			const fromDirect = direct.items.slice(i * 2, i * 2 + 2);
			for (let k = 0; k < 2; k++) {
				expect(withoutRunFields(fromWait[k].json)).toEqual(withoutRunFields(fromDirect[k].json));
				expect(fromWait[k].pairedItem).toEqual(fromDirect[k].pairedItem);
				const a = fromWait[k].binary!.data;
				const b = fromDirect[k].binary!.data;
				expect(a.fileName!.replace(taskId, 'ID')).toBe(b.fileName!.replace(fromDirect[k].json.taskId as string, 'ID'));
				expect(a.mimeType).toBe(b.mimeType);
				expect((await store.read(a)).equals(await store.read(b))).toBe(true);
			}
		}
	});

	test('one item can carry several task IDs (comma separated); each task is collected', async () => {
		const first = await run(generate({ runMode: 'submit', prompt: 'one' }));
		const second = await run(generate({ runMode: 'submit', prompt: 'two' }));
		const ids = [first.items[0].json.taskId as string, second.items[0].json.taskId as string];
		const waited = await run({ operation: 'waitForTask', taskIds: ids.join(', '), outputFormat: 'url' }, [{ json: {} }]);
		expect(waited.status).toBe('success');
		expect(waited.items.map((item) => item.json.taskId)).toEqual(ids);
		for (const [i, item] of waited.items.entries()) {
			expect(item.pairedItem).toEqual({ item: 0 });
			expect(item.json.url).toBe(emu.task(ids[i])!.resultUrls[0]);
			expect(item.binary).toBeUndefined();
		}
	});

	test('an empty or malformed task ID is rejected before any request', async () => {
		const result = await run({ operation: 'waitForTask', taskIds: '={{ $json.id }}' }, [{ json: { id: 'abc-123' } }, { json: { id: '../tasks' } }]);
		expect(result.status).toBe('error');
		// The message names the item, the field, the value and the fix.
		expect(result.error?.message).toMatch(/^Item 2: Task IDs: "\.\.\/tasks" is not a DashScope task ID .*: use the taskId field of a "Submit Only" result$/);
		expect(emu.requests()).toHaveLength(0);
	});
});

describe('Cancel Task', () => {
	test('a PENDING task is cancelled', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const submitted = await run(generate({ runMode: 'submit' }));
		const taskId = submitted.items[0].json.taskId as string;
		expect(emu.task(taskId)!.status).toBe('PENDING');
		const result = await run({ operation: 'cancelTask', taskId: '={{ $json.taskId }}' }, submitted.items);
		expect(result.status).toBe('success');
		const cancel = emu.requests().find((r) => r.kind === 'cancel')!;
		expect(cancel.method).toBe('POST');
		expect(cancel.path).toBe(`/${REGION}/api/v1/tasks/${taskId}/cancel`);
		expect(cancel.headers.authorization).toBe(`Bearer ${KEY}`);
		expect(result.items).toEqual([
			{
				json: { taskId, canceled: true, previousStatus: 'PENDING', requestId: (cancel.responseBody as { request_id: string }).request_id },
				pairedItem: { item: 0 },
			},
		]);
		expect(emu.task(taskId)!.status).toBe('CANCELED');
		expect(emu.counters().cancels).toBe(1);
	});

	test('a RUNNING task: a clear error naming the status, and no cancel request', async () => {
		emu.setTiming({ pendingMs: 0, runningMs: 60_000 });
		const submitted = await run(generate({ runMode: 'submit' }));
		const taskId = submitted.items[0].json.taskId as string;
		await untilStatus(taskId, 'RUNNING');
		const result = await run({ operation: 'cancelTask', taskId });
		expect(result.status).toBe('error');
		expect(result.error?.message).toContain(`Task ${taskId} cannot be cancelled`);
		expect(result.error?.message).toMatch(/already running/);
		expect(result.error?.description).toContain('status RUNNING');
		expect(emu.counters().cancels).toBe(0);
		expect(emu.task(taskId)!.status).toBe('RUNNING');

		const cof = await run({ operation: 'cancelTask', taskId }, [{ json: {} }], { continueOnFail: true });
		expect(cof.status).toBe('success');
		expect(cof.items).toHaveLength(1);
		expect(cof.items[0].pairedItem).toEqual({ item: 0 });
		expect(cof.items[0].json).toMatchObject({ taskId, taskStatus: 'RUNNING' });
		expect(cof.items[0].json.error).toContain('already running');
	});

	test('a finished task cannot be cancelled either', async () => {
		const done = await run(generate({ outputFormat: 'url' }));
		const taskId = done.items[0].json.taskId as string;
		const result = await run({ operation: 'cancelTask', taskId });
		expect(result.status).toBe('error');
		expect(result.error?.message).toContain('already finished');
		expect(result.error?.description).toContain('status SUCCEEDED');
		expect(emu.counters().cancels).toBe(0);
	});
});

describe('outcomes', () => {
	test('partial success (wan2.5 results[]): succeeded images emitted, the failed one reported per image', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'partial', failed: 1, code: 'InternalError.Algo', message: 'one image broke' } });
		const input = await store.store(png(500, 500), 'image/png', 'in.png');
		const result = await run(editBinary('wan2.5-i2i-preview', 'make three variations', { size: 'custom', customSize: '768*768', numberOfImages: 3 }), [
			{ json: {}, binary: { data: input } },
		]);
		expect(result.status).toBe('success');
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.synthesis));
		const output = lastQuery(emu, taskId).output as { results: IDataObject[]; task_metrics: IDataObject };
		expect(output.task_metrics).toEqual({ TOTAL: 3, SUCCEEDED: 2, FAILED: 1 });
		expect(result.items).toHaveLength(3);
		const okItems = result.items.filter((item) => item.binary);
		await expectImageItems(store, emu, okItems, {
			taskId,
			model: 'wan2.5-i2i-preview',
			prompt: 'make three variations',
			itemIndex: 0,
			count: 2,
			fileName: (index) => `wan2.5-i2i-preview-1-${index}-${taskId}.png`,
		});
		// One output item per result entry, in order: a url → binary, a code → a per-image error.
		output.results.forEach((entry, i) => {
			const item = result.items[i];
			expect(item.json.imageIndex).toBe(i + 1);
			expect(item.pairedItem).toEqual({ item: 0 });
			if (entry.url) {
				expect(item.json.url).toBe(entry.url);
			} else {
				expect(item.binary).toBeUndefined();
				expect(item.json).toMatchObject({ taskId, code: entry.code, message: entry.message, failedCount: 1, imageCount: 2 });
				expect(item.json.error).toBe(`Image ${i + 1} failed: ${entry.code} ${entry.message}`);
			}
		});
	});

	test('partial success (wan2.7 choices[]): the images returned are emitted, the one missing is reported', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'partial', failed: 1 } });
		const result = await run(generate({ numberOfImages: 3 }));
		expect(result.status).toBe('success');
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		// The choices[] family has no per-image error entries: the failed image is simply absent (§5.6).
		expect(lastQuery(emu, taskId).usage).toMatchObject({ image_count: 2 });
		expect(result.items).toHaveLength(3);
		await expectImageItems(store, emu, result.items.slice(0, 2), {
			taskId,
			model: 'wan2.7-image',
			prompt: 'a small green cube',
			itemIndex: 0,
			count: 2,
			fileName: (index) => `wan2.7-image-1-${index}-${taskId}.png`,
		});
		expect(result.items[2].binary).toBeUndefined();
		expect(result.items[2].pairedItem).toEqual({ item: 0 });
		expect(result.items[2].json).toMatchObject({ taskId, imageIndex: 3, code: 'ImageMissing', imageCount: 2, failedCount: 1 });
		expect(result.items[2].json.error).toMatch(/^Image 3 failed: ImageMissing DashScope returned 2 of the 3 images requested/);
	});

	test('an image set returning fewer images than its upper bound is not a failure', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'partial', failed: 1 } });
		const result = await run({ ...generate({ numberOfImages: 3, outputFormat: 'url' }), operation: 'generateImageSet' });
		expect(result.status).toBe('success');
		expect(result.items).toHaveLength(2);
		for (const item of result.items) expect(item.json).toMatchObject({ imageCount: 2, failedCount: 0 });
	});

	test('FAILED: an error with the code, message and task ID; with Continue On Fail an error item with the same', async () => {
		const fault = { type: 'fail-task' as const, code: 'InternalError.Algo', message: 'the model fell over' };
		emu.injectFault({ match: { kind: 'submit' }, action: fault });
		const { error, taskId } = await failedGenerate();
		expect(emu.task(taskId)!.status).toBe('FAILED');
		const queryAnswer = lastQuery(emu, taskId);
		expect(error?.message).toBe(`DashScope ${fault.code}: The task failed: ${fault.message}`);
		expect(error?.description).toContain(`task ID ${taskId}`);
		expect(error?.description).toContain(`request ID ${queryAnswer.request_id}`);
		expect(error?.context).toMatchObject({ taskId, code: fault.code });

		emu.injectFault({ match: { kind: 'submit' }, action: fault });
		const cof = await run(generate(), [{ json: {} }], { continueOnFail: true });
		expect(cof.status).toBe('success');
		const taskId2 = submittedTaskId(submits(emu)[1]);
		expect(cof.items).toEqual([
			{
				json: expect.objectContaining({
					error: `DashScope ${fault.code}: The task failed: ${fault.message}`,
					taskId: taskId2,
					code: fault.code,
					requestId: lastQuery(emu, taskId2).request_id,
				}),
				pairedItem: { item: 0 },
			},
		]);
		expect(cof.items[0].json.description).toContain(`task ID ${taskId2}`);
	});

	test('content moderation at task stage: FAILED with a hint', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'moderation', code: 'DataInspectionFailed', stage: 'task' } });
		const result = await run(generate());
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/^DashScope DataInspectionFailed: The task failed/);
		expect(result.error?.description).toMatch(/moderation/i);
	});

	test('a result download refused by the result host: the error keeps the (billed) task ID, and Wait for Task recovers it', async () => {
		emu.injectFault({ match: { kind: 'result' }, action: { type: 'http', status: 403, code: 'AccessDenied', message: 'Request has expired.' } });
		const { error, taskId } = await failedGenerate();
		expect(emu.task(taskId)!.status).toBe('SUCCEEDED');
		expect(error?.message).toContain(`Task ${taskId} succeeded but downloading its image failed`);
		expect(error?.message).toContain('Wait for Task');
		expect(error?.description).toContain(`task ID ${taskId}`);
		expect(emu.counters().resultDownloads).toBe(1); // a 403 is final: not retried

		const recovered = await run({ operation: 'waitForTask', taskIds: taskId });
		expect(recovered.status).toBe('success');
		expect(submits(emu)).toHaveLength(1);
		await expectImageItems(store, emu, recovered.items, {
			taskId,
			model: undefined,
			prompt: undefined,
			itemIndex: 0,
			count: 1,
			fileName: (index) => `wan-1-${index}-${taskId}.png`, // {{model}} is unknown when only the ID is given
		});
	});

	test('UNKNOWN: a task older than 24 h, and an ID the service never issued', async () => {
		const submitted = await run(generate({ runMode: 'submit' }));
		const taskId = submitted.items[0].json.taskId as string;
		emu.advanceClock(25 * 3600 * 1000);
		const expired = await run({ operation: 'waitForTask', taskIds: '={{ $json.taskId }}' }, submitted.items);
		expect(expired.status).toBe('error');
		expect(lastQuery(emu, taskId).output.task_status).toBe('UNKNOWN');
		expect(expired.error?.message).toMatch(/does not know this task/);
		expect(expired.error?.message).toMatch(/expire after 24 hours/);
		expect(expired.error?.description).toContain(`task ID ${taskId}`);

		const unknown = await run({ operation: 'waitForTask', taskIds: 'f00dfeed-0000-4000-8000-000000000000' });
		expect(unknown.status).toBe('error');
		expect(unknown.error?.message).toMatch(/^DashScope TaskUnknown: /);
		expect(unknown.error?.description).toContain('task ID f00dfeed-0000-4000-8000-000000000000');
	});
});

describe('timeouts and stopping', () => {
	test('timeout: the error says the task is still running and gives its ID; nothing is cancelled', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const started = Date.now();
		const { error, taskId } = await failedGenerate({ options: { timeoutSeconds: 1 } });
		const elapsed = Date.now() - started;
		expect(error?.message).toContain(`Task ${taskId} was still PENDING after 1 s`);
		expect(error?.message).toContain('Wait for Task');
		expect(error?.description).toContain(taskId);
		expect(elapsed).toBeGreaterThanOrEqual(1000);
		expect(elapsed).toBeLessThan(4000);
		expect(emu.counters().cancels).toBe(0);
		expect(emu.task(taskId)!.status).toBe('PENDING');
	});

	test('timeout with "Cancel Pending Task": a task still PENDING is cancelled', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const { error, taskId } = await failedGenerate({ options: { timeoutSeconds: 1, cancelPending: true } });
		expect(emu.task(taskId)!.status).toBe('CANCELED');
		expect(emu.counters().cancels).toBe(1);
		expect(error?.message).toContain(taskId);
		expect(error?.message).toMatch(/cancelled \(not billed\)/);
	});

	test('timeout with "Cancel Pending Task" while RUNNING: not cancellable, reported as still running', async () => {
		emu.setTiming({ pendingMs: 0, runningMs: 60_000 });
		const { error, taskId } = await failedGenerate({ options: { timeoutSeconds: 1, cancelPending: true } });
		expect(error?.message).toContain(`It is still RUNNING`);
		expect(error?.message).toContain(taskId);
		expect(emu.counters().cancels).toBe(0);
		expect(emu.task(taskId)!.status).toBe('RUNNING');
	});

	test('stopping the execution while waiting ends the run promptly (status canceled)', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const started = Date.now();
		const result = await run(generate(), [{ json: {} }], { cancelAfterMs: 400 });
		const elapsed = Date.now() - started;
		expect(result.status).toBe('canceled');
		expect(elapsed).toBeLessThan(2500);
		expect(submits(emu)).toHaveLength(1);
		// Polling stops: at most the one query already on the wire at the stop can still land (a loaded
		// machine delivers it late), and none follows in the next 1.5 s (the schedule polls every 1 s here).
		const atStop = emu.counters().queries;
		await new Promise((resolve) => setTimeout(resolve, 300));
		const settled = emu.counters().queries;
		expect(settled - atStop).toBeLessThanOrEqual(1);
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(emu.counters().queries).toBe(settled);
	});

	test('stopping the execution while the submit itself hangs ends the run promptly', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'delay', ms: 5000 } });
		const started = Date.now();
		const result = await run(generate(), [{ json: {} }], { cancelAfterMs: 300 });
		expect(result.status).toBe('canceled');
		expect(Date.now() - started).toBeLessThan(2500);
		expect(emu.counters().submitAttempts).toBe(1);
		expect(emu.counters().queries).toBe(0);
	});

	test('stopping the execution never starts the remaining items (even with Continue On Fail)', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const items = [1, 2, 3].map((i) => ({ json: { prompt: `item ${i}` } }));
		const result = await run(generate({ prompt: '={{ $json.prompt }}', options: { concurrency: 1 } }), items, { continueOnFail: true, cancelAfterMs: 400 });
		expect(result.status).toBe('canceled');
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(emu.counters().submitAttempts).toBe(1);
		expect(submits(emu)[0].body).toMatchObject({ input: { messages: [{ content: [{ text: 'item 1' }] }] } });
	});

	test('stopping the execution with "Cancel Pending Task" cancels the queued task', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const result = await run(generate({ options: { cancelPending: true } }), [{ json: {} }], { cancelAfterMs: 400 });
		expect(result.status).toBe('canceled');
		const taskId = submittedTaskId(submits(emu)[0]);
		await untilStatus(taskId, 'CANCELED');
		expect(emu.counters().cancels).toBe(1);
	});
});
