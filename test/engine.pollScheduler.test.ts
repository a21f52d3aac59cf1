/**
 * Waiting with the automatic schedule (Poll Interval 0: the execution's poll scheduler,
 * tasks/pollScheduler.ts) through the built node in n8n's engine against the emulator: no poll right
 * after a submit, the tasks after the first are found done by their first look, queries stay under the
 * SDKs' schedule, and every reliability behaviour of the wait (transient failures, Timeout, stop) holds
 * on this path too. Counts only: speed is measured in `npm run bench` (P1, P2).
 */
import { generateFromPrompt, setupEngine } from './fixtures/engine';
import { submits, submittedTaskId } from './fixtures/images';

const { emu, run } = setupEngine({ options: { pollIntervalSeconds: 0 } });

const generate = generateFromPrompt;

const items = (count: number, runningMs: number) =>
	Array.from({ length: count }, (_, i) => ({ json: { prompt: `cube ${i + 1} [emulator:running-ms=${runningMs}]` } }));

/** The queries the emulator answered for a task, in order, with the status each saw. */
function queriesOf(taskId: string) {
	return emu
		.requests()
		.filter((r) => r.kind === 'query' && r.path.endsWith(`/tasks/${taskId}`))
		.map((r) => ({ at: r.at, status: r.status, taskStatus: (r.responseBody as { output?: { task_status?: string } }).output?.task_status }));
}

describe('the automatic poll schedule', () => {
	test('no poll right after a submit; once one task ended, the next ones are found done by their first look', async () => {
		emu.setTiming({ pendingMs: 0 });
		const result = await run(generate({ options: { concurrency: 1 } }), items(4, 700));
		expect(result.status).toBe('success');
		expect(result.items).toHaveLength(4);
		const taskIds = submits(emu).map(submittedTaskId);
		expect(taskIds).toHaveLength(4);
		for (const [n, taskId] of taskIds.entries()) {
			const queries = queriesOf(taskId);
			const submitted = emu.task(taskId)!.submitTime;
			// The first look is planned, not sent with the submit: the task had been running a while.
			expect(queries[0].at - submitted).toBeGreaterThanOrEqual(300);
			expect(queries[queries.length - 1].taskStatus).toBe('SUCCEEDED');
			// The first task teaches the run length; the others end where it predicts (one look, or two if a timer fired early).
			if (n > 0) expect(queries.length).toBeLessThanOrEqual(2);
		}
		// Fewer queries than the SDKs' schedule (at once, then 1 s later: 2 per 700 ms task).
		expect(emu.counters().queries).toBeLessThanOrEqual(2 * 4);
	});

	test('Wait for Task with several IDs keeps its place until its last task ended: with Concurrency 1 the next item waits for it', async () => {
		emu.setTiming({ pendingMs: 0 });
		const submit = (runningMs: number, n: number) => run(generate({ runMode: 'submit' }), items(1, runningMs).map((item) => ({ json: { prompt: `${item.json.prompt} ${n}` } })));
		const ids: string[] = [];
		for (const [n, runningMs] of [200, 1500, 200].entries()) ids.push((await submit(runningMs, n)).items[0].json.taskId as string);
		const [short, long, next] = ids;
		const waited = await run({ operation: 'waitForTask', taskIds: '={{ $json.ids }}', outputFormat: 'url', options: { concurrency: 1 } }, [
			{ json: { ids: `${short}, ${long}` } },
			{ json: { ids: next } },
		]);
		expect(waited.status).toBe('success');
		expect(waited.items.map((item) => item.json.taskId)).toEqual(ids);
		// Item 2 starts only when item 1 has collected both its tasks, not when its first one ended.
		const longSeenDone = queriesOf(long).find((q) => q.taskStatus === 'SUCCEEDED')!.at;
		expect(queriesOf(next)[0].at).toBeGreaterThanOrEqual(longSeenDone);
	});

	test('two items waiting on the same task: when the first wait ends, the second keeps the planned schedule', async () => {
		emu.setTiming({ pendingMs: 0 });
		const taskId = (await run(generate({ runMode: 'submit' }), items(1, 3000))).items[0].json.taskId as string;
		// Item 1 gives up after 1 s, item 2 waits on.
		const waited = await run(
			{ operation: 'waitForTask', taskIds: taskId, outputFormat: 'url', options: { concurrency: 2, timeoutSeconds: '={{ $json.timeout }}' } },
			[{ json: { timeout: 1 } }, { json: { timeout: 30 } }],
			{ continueOnFail: true },
		);
		expect(waited.items.map((item) => item.json.error ?? item.json.url)).toEqual([expect.stringContaining('still RUNNING after 1 s'), expect.any(String)]);
		// Until a task has ended, the lead task is looked at every 600 ms: both items at once and at 0.6 s,
		// item 1 its last look at 1 s, item 2 at 1.2, 1.8, 2.4, 3 s (9 seen, 12 allowed for late timers).
		// Polling back to back after the first wait ended sent 36.
		expect(queriesOf(taskId).length).toBeLessThanOrEqual(12);
	});

	test('transient poll failures are waited out on this path too', async () => {
		emu.setTiming({ pendingMs: 0, runningMs: 300 });
		emu.injectFault({ match: { kind: 'query' }, times: 2, action: { type: 'http', status: 503, code: 'ServiceUnavailable' } });
		const result = await run(generate(), items(1, 300));
		expect(result.status).toBe('success');
		expect(result.items[0].json.url).toEqual(expect.any(String));
		expect(emu.requests().filter((r) => r.kind === 'query' && r.status === 503)).toHaveLength(2);
	});

	test('the Timeout ends the wait with the task still running, after a last look', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const result = await run(generate({ options: { timeoutSeconds: 1 } }), items(1, 300));
		expect(result.status).toBe('error');
		const taskId = submittedTaskId(submits(emu)[0]);
		expect(result.error?.message).toContain(`Task ${taskId} was still PENDING after 1 s`);
		expect(queriesOf(taskId).length).toBeGreaterThanOrEqual(1);
	});

	test('stopping the execution while waiting ends the run and the polling', async () => {
		emu.setTiming({ pendingMs: 60_000 });
		const result = await run(generate(), items(1, 300), { cancelAfterMs: 400 });
		expect(result.status).toBe('canceled');
		const atStop = emu.counters().queries;
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(emu.counters().queries - atStop).toBeLessThanOrEqual(1);
	});
});
