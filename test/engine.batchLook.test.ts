/**
 * Batch looks (tasks/pollScheduler.ts + the DashScope session's `lookAtTasks`): while two or more tasks
 * are waited on, one read of the task list reports them all; a task is read on its own only to collect
 * it once the list showed it ended (or as an occasional backup). Through the built node in n8n's engine
 * against the emulator, whose task list shares the 20/s query limit. Counts only: lag is measured in
 * `npm run bench` (P2).
 */
import { generateFromPrompt, setupEngine } from './fixtures/engine';
import { submits, submittedTaskId } from './fixtures/images';
import { sdkPolls } from '../nodes/AlibabaWan/tasks/runLengthModel';

const { emu, run } = setupEngine({ options: { pollIntervalSeconds: 0 } });

const generate = generateFromPrompt;

/** One item per run length (ms), each its own task. */
const items = (lengths: number[]) => lengths.map((ms, i) => ({ json: { prompt: `cube ${i + 1} [emulator:running-ms=${ms}]` } }));

/** The official SDKs' queries for a task that ends `lengthMs` after its submit (pinned in tasks.pollScheduler.test.ts). */
const sdkQueries = sdkPolls;

const ownReads = (taskId: string) => emu.requests().filter((r) => r.kind === 'query' && r.path.endsWith(`/tasks/${taskId}`));
const listReads = () => emu.requests().filter((r) => r.kind === 'list');

describe('batch looks through the task list', () => {
	const lengths = [900, 1700, 2500, 3300, 4100];

	test('five tasks of different lengths: the list watches them all, each is read on its own about once, and all status reads stay under 1.5 × the SDKs', async () => {
		emu.setTiming({ pendingMs: 0 });
		const result = await run(generate({ options: { concurrency: 5 } }), items(lengths));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.url)).toEqual(lengths.map(() => expect.any(String)));
		const taskIds = submits(emu).map(submittedTaskId);
		expect(taskIds).toHaveLength(5);
		expect(listReads().length).toBeGreaterThan(0);
		// The task that ends last runs on alone at the end, and a single task is read on its own.
		const lastToEnd = [...taskIds].sort((a, b) => emu.task(b)!.endTime! - emu.task(a)!.endTime!)[0];
		for (const taskId of taskIds) {
			const reads = ownReads(taskId);
			expect((reads[reads.length - 1].responseBody as { output: { task_status: string } }).output.task_status).toBe('SUCCEEDED');
			// The read that collects it, and at most one before the looks covered it.
			if (taskId !== lastToEnd) expect(reads.length).toBeLessThanOrEqual(2);
		}
		const sdk = taskIds.reduce((sum, id) => {
			const task = emu.task(id)!;
			return sum + sdkQueries(task.endTime! - task.submitTime);
		}, 0);
		expect(emu.counters().queries + emu.counters().lists).toBeLessThanOrEqual(1.5 * sdk);
		expect(emu.requests().filter((r) => (r.kind === 'query' || r.kind === 'list') && r.status === 429)).toHaveLength(0);
	});

	test('a task list that fails for good (403) is read once: the tasks are then polled on their own and all collected', async () => {
		emu.setTiming({ pendingMs: 0 });
		emu.injectFault({ match: { kind: 'list' }, times: 100, action: { type: 'http', status: 403, code: 'AccessDenied' } });
		const result = await run(generate({ options: { concurrency: 5 } }), items(lengths.slice(0, 3)));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.url)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
		expect(listReads()).toHaveLength(1);
		for (const taskId of submits(emu).map(submittedTaskId)) expect(ownReads(taskId).length).toBeGreaterThanOrEqual(1);
	});

	test('a task list that fails for a while (503) is backed off, and every task is collected', async () => {
		emu.setTiming({ pendingMs: 0 });
		emu.injectFault({ match: { kind: 'list' }, times: 2, action: { type: 'http', status: 503, code: 'ServiceUnavailable' } });
		const result = await run(generate({ options: { concurrency: 5 } }), items([4000, 4000, 4000]));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.url)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
		const lists = listReads();
		expect(lists.slice(0, 2).map((r) => r.status)).toEqual([503, 503]);
		// Backed off (1 s, then 2 s), then looked again: the list answered and covered the tasks.
		expect(lists[1].at - lists[0].at).toBeGreaterThanOrEqual(900);
		expect(lists.slice(2).length).toBeGreaterThan(0);
		expect(lists.slice(2).every((r) => r.status === 200)).toBe(true);
	});

	test('a list that never shows our tasks: the tasks keep their own plans, are all collected, and the looks stay within the credit', async () => {
		emu.setTiming({ pendingMs: 0 });
		const empty = JSON.stringify({ request_id: 'r', data: [], total: 0, total_page: 0, page_no: 1, page_size: 100 });
		emu.injectFault({ match: { kind: 'list' }, times: 100, action: { type: 'replace-body', status: 200, contentType: 'application/json', body: empty } });
		const result = await run(generate({ options: { concurrency: 5 } }), items([3000, 3000, 3000]));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.url)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
		for (const taskId of submits(emu).map(submittedTaskId)) expect(ownReads(taskId).length).toBeGreaterThanOrEqual(1);
		// (Looks are given up after three empty ones once the tasks are 30 s old: tasks/pollScheduler unit tests.)
		expect(emu.counters().queries + emu.counters().lists).toBeLessThanOrEqual(1.5 * 3 * sdkQueries(3000) + 3);
	});

	test('a list that lags behind the tasks delays a task, never loses it: the backup read collects it', async () => {
		// The list shows every task as it was 60 s ago (still RUNNING); only the tasks' own reads see them end.
		emu.setTiming({ pendingMs: 0, listLagMs: 60_000 });
		const result = await run(generate({ options: { concurrency: 5 } }), items([500, 500, 500]));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.url)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
		// The looks watched the tasks (and showed them running) until a read proved the list lags.
		expect(listReads().length).toBeGreaterThan(0);
		const seenEnded: number[] = [];
		for (const taskId of submits(emu).map(submittedTaskId)) {
			const reads = ownReads(taskId);
			expect((reads[reads.length - 1].responseBody as { output: { task_status: string } }).output.task_status).toBe('SUCCEEDED');
			seenEnded.push(reads[reads.length - 1].at);
		}
		// The first read that found a task long ended, while the list still showed it running, ends the looks.
		expect(listReads().filter((r) => r.at > Math.min(...seenEnded)).length).toBeLessThanOrEqual(1);
	}, 60_000);

	test('a single task is read on its own, never through the list', async () => {
		emu.setTiming({ pendingMs: 0 });
		const result = await run(generate(), items([1200]));
		expect(result.status).toBe('success');
		expect(listReads()).toHaveLength(0);
	});

	test('stopping the execution stops the looks too', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const result = await run(generate({ options: { concurrency: 5 } }), items([300, 300, 300]), { cancelAfterMs: 1500 });
		expect(result.status).toBe('canceled');
		const atStop = emu.counters().lists + emu.counters().queries;
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(emu.counters().lists + emu.counters().queries - atStop).toBeLessThanOrEqual(1);
	});
});
