/** Runware emulator: async delivery, getResponse per-result statuses on the emulator clock, conflictTaskUUID without a duplicate task, queue capacity. */
import { randomUUID } from 'node:crypto';

import { startRunwareEmulator } from './emulator-runware';
import { download, expectError, getResponse, inference, post, setupRunware } from './emulator-runware/fixtures';

// Long durations, moved forward with advanceClock: nothing depends on real time.
const emu = setupRunware({ timing: { queueMs: 10_000, perImageMs: 10_000, syncDelayMs: 0 } });

const statuses = (answer: Awaited<ReturnType<typeof post>>) => answer.body.data!.map((d) => d.status);

test('async submit answers at once with one acknowledgement item per task, whatever numberResults', async () => {
	const task = inference({ deliveryMethod: 'async', numberResults: 3 });
	const answer = await post(emu, [task]);
	expect(answer.status).toBe(200);
	expect(answer.body).toEqual({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID }] });
	expect(emu.task(task.taskUUID as string)?.statuses).toEqual(['processing', 'processing', 'processing']);
});

test('getResponse: one item per result, cumulative, in stable order, processing → success', async () => {
	const task = inference({ deliveryMethod: 'async', numberResults: 3, seed: 100, includeCost: true });
	await post(emu, [task]);
	const poll = () => post(emu, [getResponse(task.taskUUID)]);

	const first = await poll();
	expect(first.status).toBe(200);
	expect(first.body.data).toEqual([0, 1, 2].map(() => ({ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing', progress: expect.any(Number) })));

	emu.advanceClock(20_000); // queue + first image
	const second = await poll();
	expect(statuses(second)).toEqual(['success', 'processing', 'processing']);
	const done = second.body.data![0];
	expect(done).toEqual({
		taskType: 'imageInference',
		taskUUID: task.taskUUID,
		status: 'success',
		imageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
		imageURL: expect.stringMatching(/\/image\/ws\/0\.5\/ii\/[0-9a-f-]{36}\.jpg$/),
		seed: 100,
		cost: 0.03,
	});
	const progress = second.body.data!.slice(1).map((d) => d.progress as number);
	expect(progress[0]).toBeGreaterThan(progress[1]); // the later image is further from done
	expect(progress.every((p) => p >= 0 && p < 100)).toBe(true);

	emu.advanceClock(20_000);
	const third = await poll();
	expect(statuses(third)).toEqual(['success', 'success', 'success']);
	expect(third.body.data![0]).toEqual(done); // earlier results are repeated unchanged
	expect(third.body.data!.map((d) => d.seed)).toEqual([100, 101, 102]); // each result its own seed
	expect(new Set(third.body.data!.map((d) => d.imageUUID)).size).toBe(3);
	expect(emu.counters()).toMatchObject({ polls: 3, tasksCreated: 1 });
});

test('results are matched by taskUUID: one getResponse body can poll several tasks', async () => {
	const a = inference({ deliveryMethod: 'async' });
	const b = inference({ deliveryMethod: 'async', numberResults: 2 });
	await post(emu, [a, b]);
	emu.advanceClock(60_000);
	const answer = await post(emu, [getResponse(b.taskUUID), getResponse(a.taskUUID)]);
	expect(answer.body.data!.map((d) => d.taskUUID)).toEqual([b.taskUUID, b.taskUUID, a.taskUUID]);
	expect(statuses(answer)).toEqual(['success', 'success', 'success']);
});

test('an unknown taskUUID → 404 taskFailedOrNotFound; among found ones → HTTP 200 with errors', async () => {
	const unknown = randomUUID();
	expect(expectError(await post(emu, [getResponse(unknown)]), 404, 'taskFailedOrNotFound')).toMatchObject({ taskUUID: unknown, taskType: 'getResponse' });
	const task = inference({ deliveryMethod: 'async' });
	await post(emu, [task]);
	const mixed = await post(emu, [getResponse(task.taskUUID), getResponse(unknown)]);
	expect(mixed.status).toBe(200);
	expect(mixed.body.data!.map((d) => d.taskUUID)).toEqual([task.taskUUID]);
	expect(mixed.body.errors).toEqual([expect.objectContaining({ code: 'taskFailedOrNotFound', taskUUID: unknown })]);
});

test('getResponse with extra keys is refused', async () => {
	const task = inference({ deliveryMethod: 'async' });
	await post(emu, [task]);
	expectError(await post(emu, [{ ...getResponse(task.taskUUID), numberResults: 2 }]), 400, 'unsupportedParameter');
});

test('a second submit with the same taskUUID → 400 conflictTaskUUID; the task is not duplicated and stays readable', async () => {
	const task = inference({ deliveryMethod: 'async', numberResults: 2, seed: 9 });
	await post(emu, [task]);
	const retry = await post(emu, [{ ...task, seed: 10 }]);
	expect(expectError(retry, 400, 'conflictTaskUUID')).toMatchObject({ taskUUID: task.taskUUID, parameter: 'taskUUID', taskType: 'imageInference' });
	expect(emu.counters()).toMatchObject({
		submissions: 2,
		submissionsByTaskUUID: { [task.taskUUID as string]: 2 },
		tasksCreated: 1,
		conflicts: 1,
	});
	expect(emu.tasks()).toHaveLength(1);
	emu.advanceClock(60_000);
	const answer = await post(emu, [getResponse(task.taskUUID)]);
	expect(answer.body.data!.map((d) => d.seed)).toEqual([9, 10]); // the first submit's task, not the retry's
});

test('a sync task conflicts too, and getResponse reads it afterwards', async () => {
	const task = inference({ seed: 3 });
	const sync = await post(emu, [task]);
	expect(sync.body.data![0]).not.toHaveProperty('status'); // sync items carry no status
	expectError(await post(emu, [task]), 400, 'conflictTaskUUID');
	const answer = await post(emu, [getResponse(task.taskUUID)]);
	expect(answer.body.data).toEqual([{ ...sync.body.data![0], status: 'success' }]);
});

test('sync returns every result in one data array, each with its own imageUUID', async () => {
	const task = inference({ numberResults: 4 });
	const answer = await post(emu, [task]);
	expect(answer.body.data).toHaveLength(4);
	expect(new Set(answer.body.data!.map((d) => d.imageUUID)).size).toBe(4);
	expect(answer.body.data!.every((d) => d.taskUUID === task.taskUUID && typeof d.imageURL === 'string')).toBe(true);
});

test('without a seed each result gets a random seed in the unsigned 32-bit range', async () => {
	const answer = await post(emu, [inference({ numberResults: 5 })]);
	const seeds = answer.body.data!.map((d) => d.seed as number);
	expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)).toBe(true);
	expect(new Set(seeds).size).toBe(5);
	expect(emu.task(answer.body.data![0].taskUUID as string)?.seedGenerated).toBe(true);
});

test('a result URL answers only once its result is done', async () => {
	const task = inference({ deliveryMethod: 'async', outputFormat: 'PNG', width: 768, height: 768 });
	await post(emu, [task]);
	const imageUUID = emu.task(task.taskUUID as string)!.imageUUIDs[0];
	const early = await download(`${emu.url}/image/ws/0.5/ii/${imageUUID}.png`);
	expect(early.status).toBe(404);
	emu.advanceClock(20_000);
	const url = (await post(emu, [getResponse(task.taskUUID)])).body.data![0].imageURL as string;
	expect(url).toBe(`${emu.url}/image/ws/0.5/ii/${imageUUID}.png`);
	expect((await download(url)).status).toBe(200);
	expect(emu.counters().downloads).toBe(2);
});

test('queueCapacity: more unfinished async tasks of one key than allowed → 429 rateLimitExceeded, nothing created', async () => {
	const limited = await startRunwareEmulator({ queueCapacity: 2, timing: { queueMs: 10_000, perImageMs: 10_000 } });
	try {
		await post(limited, [inference({ deliveryMethod: 'async' }), inference({ deliveryMethod: 'async' })]);
		const third = await post(limited, [inference({ deliveryMethod: 'async' })]);
		expectError(third, 429, 'rateLimitExceeded');
		expect(limited.counters()).toMatchObject({ tasksCreated: 2, throttled: 1 });
		limited.advanceClock(20_000); // both finished
		expect((await post(limited, [inference({ deliveryMethod: 'async' })])).status).toBe(200);
	} finally {
		await limited.close();
	}
});

test('timing applies to tasks submitted afterwards', async () => {
	emu.setTiming({ queueMs: 0, perImageMs: 0 });
	const task = inference({ deliveryMethod: 'async', numberResults: 2 });
	await post(emu, [task]);
	expect(statuses(await post(emu, [getResponse(task.taskUUID)]))).toEqual(['success', 'success']);
});
