/**
 * The Runware session's batch look (`lookAtTasks`) against the Runware emulator over real HTTP: one
 * request with one getResponse task per taskUUID, each task's status read as getTask reads it, a task
 * the answer does not settle left out (not covered), a finished task's glance without result (getTask
 * collects it, with all its rules), and the key never in a thrown error. Expected values come from the
 * emulator's records and clock and RUNWARE_API.md §6/§7.
 */
import { randomUUID } from 'node:crypto';

import { serviceModel } from '../nodes/AlibabaWan/catalog/serviceDifferences';
import type { ImageOperation } from '../nodes/AlibabaWan/catalog/modelCatalog';
import type { WanSession } from '../nodes/AlibabaWan/services';
import { runwareService } from '../nodes/AlibabaWan/services/runware';
import { ApiError, resetRateLimiters } from '../nodes/AlibabaWan/transport';
import { RUNWARE_EMULATOR_KEYS } from './emulator-runware';
import { KEY, inference, post, setupRunware } from './emulator-runware/fixtures';
import { caught } from './fixtures/transport';

const HOUR = 3_600_000;
const emu = setupRunware({ timing: { queueMs: 0, perImageMs: HOUR, syncDelayMs: 5 } });
const FAST = { retry: { maxAttempts: 1 } };

beforeEach(() => resetRateLimiters());

const connect = (apiKey = KEY): WanSession => runwareService.connect({ apiKey, baseUrl: emu.apiUrl });

/** This session submits a task of `n` images on the standard model (its facts are the session's). */
async function submit(session: WanSession, n = 1, operation: ImageOperation = 'generateImage'): Promise<string> {
	const model = serviceModel(runwareService, 'wan2.7-image')!;
	const parameters = { prompt: 'a lighthouse', n, size: '768*768' }; // n: exact, or a set's upper bound
	const request = session.buildRequest(model, operation, parameters, [], {});
	return (await session.submitTask(request, FAST)).taskId;
}

/** A task created outside this session (Wait for Task with a bare taskUUID): `n` async images. */
async function submitElsewhere(n: number): Promise<string> {
	const task = inference({ deliveryMethod: 'async', numberResults: n, width: 768, height: 768 });
	expect((await post(emu, [task])).status).toBe(200);
	return task.taskUUID as string;
}

/** Counts the API requests and getResponse tasks `look` costs. */
async function cost<T>(look: () => Promise<T>): Promise<{ value: T; requests: number; polls: number; bodies: unknown[] }> {
	const before = emu.counters();
	const recorded = emu.requests().length;
	const value = await look();
	const after = emu.counters();
	return { value, requests: after.requests - before.requests, polls: after.polls - before.polls, bodies: emu.requests().slice(recorded).map((r) => r.body) };
}

describe('one request reports several tasks', () => {
	test('running, finished and unknown: the right statuses, the unknown left out, exactly one request, no result on the finished glance', async () => {
		const session = connect();
		const finished = await submit(session);
		emu.advanceClock(HOUR + 1_000); // its one image is done
		const running = await submit(session); // ready an hour from now
		const unknown = randomUUID();
		const { value: glances, requests, polls, bodies } = await cost(() => session.lookAtTasks!([running, finished, unknown], FAST));
		expect(requests).toBe(1);
		expect(polls).toBe(3);
		expect(bodies).toEqual([
			[
				{ taskType: 'getResponse', taskUUID: running },
				{ taskType: 'getResponse', taskUUID: finished },
				{ taskType: 'getResponse', taskUUID: unknown },
			],
		]);
		expect([...glances.keys()].sort()).toEqual([running, finished].sort());
		expect(glances.get(running)).toEqual({ taskId: running, status: 'RUNNING' });
		expect(glances.get(finished)).toEqual({ taskId: finished, status: 'SUCCEEDED' });
		expect(glances.get(finished)).not.toHaveProperty('result');
		expect(glances.has(unknown)).toBe(false);
		// The key went in the Authorization header, as for getTask.
		expect(emu.requests().at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
		// getTask then collects the finished task: the emulator's one image.
		const read = await session.getTask(finished, FAST);
		expect(read.status).toBe('SUCCEEDED');
		expect(read.result?.images).toHaveLength(1);
		expect(read.result?.images[0]?.fields?.imageUUID).toBe(emu.task(finished)!.imageUUIDs[0]);
	});

	test('a task that failed: FAILED without result; getTask reads its code', async () => {
		const session = connect();
		emu.injectFault({ match: { kind: 'inference' }, action: { type: 'fail-task', code: 'contentPolicyViolation', message: 'flagged' } });
		const failed = await submit(session);
		emu.advanceClock(HOUR + 1_000);
		const glances = await session.lookAtTasks!([failed], FAST);
		expect(glances.get(failed)).toEqual({ taskId: failed, status: 'FAILED' });
		expect((await session.getTask(failed, FAST)).result).toMatchObject({ status: 'FAILED', code: 'contentPolicyViolation' });
	});

	test('a task of two images, one done: RUNNING (its count is known to this session)', async () => {
		const session = connect();
		const task = await submit(session, 2);
		emu.advanceClock(HOUR + 1_000);
		expect((await session.lookAtTasks!([task], FAST)).get(task)).toEqual({ taskId: task, status: 'RUNNING' });
	});

	test('no task known to Runware (404 for the whole body): nothing covered, one request, no throw', async () => {
		const session = connect();
		const { value, requests } = await cost(() => session.lookAtTasks!([randomUUID(), randomUUID()], FAST));
		expect(requests).toBe(1);
		expect(value.size).toBe(0);
	});

	test("another key's task is not covered, and the same taskUUID twice is asked once", async () => {
		const mine = connect();
		const theirs = connect(RUNWARE_EMULATOR_KEYS[1]);
		const task = await submit(theirs);
		const own = await submit(mine);
		const { value, bodies } = await cost(() => mine.lookAtTasks!([own, task, own], FAST));
		expect((bodies[0] as unknown[]).length).toBe(2);
		expect([...value.keys()]).toEqual([own]);
	});

	test('a task this session just submitted that Runware does not show yet: not covered (getTask gives it its grace)', async () => {
		const session = connect();
		const task = await submit(session);
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 404, code: 'taskFailedOrNotFound' } });
		expect((await session.lookAtTasks!([task], FAST)).size).toBe(0);
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 404, code: 'taskFailedOrNotFound' } });
		expect((await session.getTask(task, FAST)).status).toBe('PENDING');
	});
});

describe("the set rules stay getTask's", () => {
	test('a bare image set, all listed images done: never ended by batch looks alone; getTask still needs its two agreeing reads', async () => {
		const session = connect();
		const task = await submitElsewhere(2);
		emu.advanceClock(3 * HOUR); // both images done
		// Batch looks cannot prove the set complete (count unknown): not covered, however often.
		expect((await session.lookAtTasks!([task], FAST)).size).toBe(0);
		expect((await session.lookAtTasks!([task], FAST)).size).toBe(0);
		// They did not stand in for getTask's first read: it still sees one quiet look, not two.
		expect((await session.getTask(task, FAST)).status).toBe('RUNNING');
		// After that read, a batch look agreeing with it says "ended: read it", without result…
		expect((await session.lookAtTasks!([task], FAST)).get(task)).toEqual({ taskId: task, status: 'SUCCEEDED' });
		// …and getTask, reading again, ends it with both images.
		const read = await session.getTask(task, FAST);
		expect(read.status).toBe('SUCCEEDED');
		expect(read.result?.images).toHaveLength(2);
	});

	test('an image set this session submitted, still running: RUNNING; once every image is listed done below the bound: not covered', async () => {
		const session = connect();
		const task = await submit(session, 3, 'generateImageSet');
		const numberResults = (emu.task(task)!.request as { numberResults?: number }).numberResults;
		expect(numberResults).toBe(3);
		expect((await session.lookAtTasks!([task], FAST)).get(task)).toEqual({ taskId: task, status: 'RUNNING' });
		emu.advanceClock(4 * HOUR);
		// All three listed and done: the upper bound is reached, so the set is complete (§12.4) and ended.
		expect((await session.lookAtTasks!([task], FAST)).get(task)).toEqual({ taskId: task, status: 'SUCCEEDED' });
		// With only the finished images listed (the Python SDK's mock shape) below the bound: getTask decides.
		const other = await submit(session, 3, 'generateImageSet');
		emu.advanceClock(HOUR + 1_000); // image 1 of 3 done
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'finished-only' } });
		expect((await session.lookAtTasks!([other], FAST)).size).toBe(0);
	});
});

describe('failures: thrown like getTask, the key never in them', () => {
	const keyIn = (error: unknown) => {
		const e = error as ApiError;
		return JSON.stringify({ message: e.message, hint: e.hint, code: e.code, taskId: e.taskId, stack: e.stack, fields: { ...e } }).includes(KEY);
	};

	test('an error naming no task (HTTP 200) echoing the key: a transient error, scrubbed, after one request', async () => {
		const session = connect();
		const task = await submit(session);
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 200, code: 'serverUnavailable', message: `busy for key ${KEY}` } });
		const { value: error, requests } = await cost(() => caught(session.lookAtTasks!([task, randomUUID()], FAST)));
		expect(requests).toBe(1);
		expect(error).toBeInstanceOf(ApiError);
		expect(error.message).toMatch(/naming no task \(serverUnavailable: busy for key/);
		expect(keyIn(error)).toBe(false);
		expect(session.isTransient(error)).toBe(true);
	});

	test("getTask's read answered with an error naming no task, echoing the key: scrubbed too, still transient", async () => {
		const session = connect();
		const task = await submit(session);
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 200, code: 'serverUnavailable', message: `busy for key ${KEY}` } });
		const error = await caught(session.getTask(task, FAST));
		expect(error.message).toMatch(/naming no task/);
		expect(keyIn(error)).toBe(false);
		expect(session.isTransient(error)).toBe(true);
	});

	test.each([
		[500, 'serverUnavailable', true],
		[401, 'invalidApiKey', false],
	])('HTTP %i %s echoing the key: the mapped error, scrubbed (transient: %s)', async (status, code, transient) => {
		const session = connect();
		const task = await submit(session);
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status, code, message: `refused key ${KEY}` } });
		const error = await caught(session.lookAtTasks!([task, randomUUID()], FAST));
		expect(error).toMatchObject({ code, httpStatus: status, service: 'Runware' });
		expect(error.message).toContain('refused key');
		expect(keyIn(error)).toBe(false);
		expect(session.isTransient(error)).toBe(transient);
	});

	test("a 429 to the batch look lowers the session's query budget (the same limiter as getTask's)", async () => {
		const session = connect();
		const full = session.queryBudget!();
		emu.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 429 } });
		const task = await submit(session);
		const glances = await session.lookAtTasks!([task], { retry: { maxAttempts: 2, baseDelayMs: 10 } });
		expect(glances.get(task)?.status).toBe('RUNNING');
		expect(emu.counters().throttled).toBe(1);
		expect(session.queryBudget!()).toBeLessThan(full);
	});
});
