/**
 * Benchmark 1 worker (one fresh process per scenario): Fuse Images (wan2.7-image-pro, Submit Only) of
 * the given files, all binary fields of one item, stored in n8n's filesystem binary store, sent to the
 * emulator in another process. Measures this process's memory while the node runs.
 *
 * argv: JSON { label, files: string[], warmupFiles: string[], baseUrl, apiKey, region, intervalMs, repeats }
 * IPC: sends { phase: 'ready', run } and waits for any message before each measured run (the parent
 * resets the emulator then), then { phase: 'result', … }.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';

import { measure } from '../lib/memory';
import { loadEngine, runWorker, sendToParent } from '../lib/worker';

interface Args {
	label: string;
	files: string[];
	warmupFiles: string[];
	baseUrl: string;
	apiKey: string;
	region: string;
	intervalMs: number;
	repeats: number;
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as Args;
	if (!process.env.N8N_USER_FOLDER) throw new Error('N8N_USER_FOLDER must be set before n8n-core loads');
	const { store, runNode } = await loadEngine();
	try {
		// Straight from disk into the store (a stream: the images never sit in this process's memory).
		const put = async (files: string[]) => {
			const binary: Record<string, unknown> = {};
			for (const [i, file] of files.entries()) {
				binary[i === 0 ? 'data' : `data_${i}`] = await store.service.store(
					{ type: 'execution', workflowId: 'wf1', executionId: 'e1' },
					createReadStream(file),
					{ data: '', mimeType: file.endsWith('.png') ? 'image/png' : 'image/bmp', fileName: basename(file) } as never,
				);
			}
			return binary;
		};
		const runFuse = (binary: Record<string, unknown>) =>
			runNode({
				parameters: {
					operation: 'fuseImages',
					model: 'wan2.7-image-pro',
					prompt: 'Fuse the subjects of all images into one scene',
					imagesFrom: 'allBinary',
					size: '1K',
					runMode: 'submit',
				},
				credentials: { apiKey: args.apiKey, region: args.region, baseUrl: args.baseUrl },
				items: [{ json: {}, binary: binary as never }],
			});

		// Warm-up: the same run with small images loads and JITs every code path (undici, zod, the engine).
		const warm = await runFuse(await put(args.warmupFiles));
		if (warm.status !== 'success') throw new Error(`warm-up failed: ${warm.error?.message} ${warm.error?.description ?? ''}`);

		const binary = await put(args.files);
		const inputBytes = args.files.reduce((s, f) => s + statSync(f).size, 0);
		for (let run = 1; run <= args.repeats; run++) {
			// Let the parent zero the emulator's counters, so what it reports is this run alone.
			process.send!({ phase: 'ready', run });
			await new Promise((resolve) => process.once('message', resolve));
			const { value: result, memory, wallMs, startEpochMs, endEpochMs } = await measure(() => runFuse(binary), args.intervalMs);
			const report = {
				phase: 'result',
				run,
				label: args.label,
				status: result.status,
				error: result.error ? `${result.error.message} ${result.error.description ?? ''}`.trim() : undefined,
				taskId: result.items[0]?.json?.taskId,
				inputBytes,
				wallMs,
				startEpochMs,
				endEpochMs,
				memory,
			};
			await sendToParent(report);
		}
	} finally {
		store.cleanup();
	}
}

runWorker(main);
