/**
 * Benchmark 2 worker: a batch of Edit Image items (wan2.7-image, one ~1 MB PNG each, size 1K) through
 * the engine against an in-process emulator with realistic task timing, at several concurrencies.
 * Concurrency is derived from the emulator's own task timestamps and from its request log.
 *
 * argv: JSON { imageFile, items, pendingMs, runningMs, scenarios: Scenario[] }
 */
import { readFileSync } from 'node:fs';

import { startEmulator, EMULATOR_KEYS } from '../../test/emulator';
import { loadEngine, runWorker, sendToParent } from '../lib/worker';

interface Scenario {
	label: string;
	concurrency: number;
	/** 0 = the node's automatic schedule (1, 1, 2, 2, 2, 4 … 5 s). */
	pollIntervalSeconds: number;
	outputFormat: 'url' | 'binary';
}

interface Args {
	imageFile: string;
	items: number;
	pendingMs: number;
	runningMs: number;
	scenarios: Scenario[];
}

const REGION = 'ap-southeast-1';

/** Largest number of [start, end) intervals open at one instant. */
function maxOverlap(intervals: Array<[number, number]>): number {
	const events = intervals.flatMap(([s, e]) => [
		[s, 1],
		[e, -1],
	]);
	// Ends before starts at the same instant: a slot freed at t can be reused at t.
	events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
	let open = 0;
	let max = 0;
	for (const [, d] of events) {
		open += d;
		max = Math.max(max, open);
	}
	return max;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as Args;
	if (!process.env.N8N_USER_FOLDER) throw new Error('N8N_USER_FOLDER must be set before n8n-core loads');
	const { store, runNode } = await loadEngine();
	const emu = await startEmulator({ timing: { pendingMs: args.pendingMs, runningMs: args.runningMs } });
	const image = readFileSync(args.imageFile);
	const rows: Array<Record<string, unknown>> = [];
	try {
		const items = [];
		for (let i = 0; i < args.items; i++) {
			items.push({ json: { i }, binary: { data: await store.store(image, 'image/png', `in-${i}.png`) } });
		}
		for (const s of args.scenarios) {
			emu.reset();
			const started = performance.now();
			const result = await runNode({
				parameters: {
					operation: 'editImage',
					model: 'wan2.7-image',
					prompt: 'Make the background light blue',
					inputType: 'binary',
					binaryPropertyName: 'data',
					size: '1K',
					numberOfImages: 1,
					runMode: 'wait',
					outputFormat: s.outputFormat,
					options: { concurrency: s.concurrency, pollIntervalSeconds: s.pollIntervalSeconds },
				},
				credentials: { apiKey: EMULATOR_KEYS[REGION], region: REGION, baseUrl: emu.baseUrl(REGION) },
				items,
			});
			const wallMs = performance.now() - started;
			const requests = emu.requests();
			const counters = emu.counters();
			const submits = requests.filter((r) => r.kind === 'submit' && r.status === 200);
			const taskIds = submits.map((r) => (r.responseBody as { output: { task_id: string } }).output.task_id);
			const tasks = taskIds.map((id) => emu.task(id)!);
			// Server view: a task holds one of the account's 5 slots from submit until it ends.
			const serverIntervals = tasks.map((t): [number, number] => [t.submitTime, t.endTime ?? t.submitTime]);
			// Node view: from its submit until its last request about it (final poll or download).
			const lastSeen = new Map<string, number>();
			for (const r of requests) {
				const id = taskIds.find((t) => r.path.includes(t));
				if (id) lastSeen.set(id, Math.max(lastSeen.get(id) ?? 0, r.at));
			}
			const nodeIntervals = submits.map((r, i): [number, number] => [r.at, lastSeen.get(taskIds[i]) ?? r.at]);
			const succeeded = tasks.filter((t) => t.status === 'SUCCEEDED').length;
			rows.push({
				...s,
				items: args.items,
				status: result.status,
				error: result.error ? `${result.error.message} ${result.error.description ?? ''}`.trim() : undefined,
				outputItems: result.items.length,
				outputHasBinary: result.items.filter((it) => it.binary && Object.keys(it.binary).length).length,
				wallMs,
				tasksPerMinute: (succeeded / wallMs) * 60_000,
				tasksSucceeded: succeeded,
				maxConcurrentServer: maxOverlap(serverIntervals),
				maxConcurrentNode: maxOverlap(nodeIntervals),
				meanTaskMs: mean(tasks.map((t) => (t.endTime ?? t.submitTime) - t.submitTime)),
				meanNoticeLagMs: mean(tasks.map((t, i) => (lastSeen.get(taskIds[i]) ?? 0) - (t.endTime ?? 0))),
				pollsPerTask: counters.queries / Math.max(1, succeeded),
				counters: {
					submitAttempts: counters.submitAttempts,
					submissions: counters.submissions,
					queries: counters.queries,
					resultDownloads: counters.resultDownloads,
					rejected: counters.rejected,
					throttled: counters.throttled,
				},
			});
		}
	} finally {
		await emu.close();
		store.cleanup();
	}
	await sendToParent({ rows });
}

runWorker(main);
