/**
 * Pace worker (P1, P1b, P2, P6): ONE execution of Edit Image items (wan2.7-image, size 1K, Output =
 * Binary, default Concurrency and automatic poll schedule) through the built node in n8n's engine,
 * against an emulator in another process (bench/emulatorProcess.ts), so several of these workers can
 * share one emulator and one key (P6). Each item's prompt carries the emulator's per-task running-time
 * token, so a batch can mix task lengths.
 *
 * Protocol: sends { phase: 'ready' } once the engine is loaded and the inputs are stored, waits for
 * { go: true } (P6 starts two workers at the same instant), then sends { phase: 'result', … }.
 *
 * argv: JSON { baseUrl, apiKey, region, imageFile, runningMs: number[], label }
 */
import { readFileSync } from 'node:fs';

import { loadEngine, runWorker, sendToParent } from '../lib/worker';

interface Args {
	baseUrl: string;
	apiKey: string;
	region: string;
	imageFile: string;
	/** One entry per item: how long the emulator runs that item's task. */
	runningMs: number[];
	label: string;
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as Args;
	if (!process.env.N8N_USER_FOLDER) throw new Error('N8N_USER_FOLDER must be set before n8n-core loads');
	const { store, runNode } = await loadEngine();
	const image = readFileSync(args.imageFile);
	try {
		const items = [];
		for (let i = 0; i < args.runningMs.length; i++) {
			items.push({
				json: { prompt: `${args.label} item ${i + 1}: make the background light blue [emulator:running-ms=${args.runningMs[i]}]` },
				binary: { data: await store.store(image, 'image/png', `in-${i + 1}.png`) },
			});
		}
		await sendToParent({ phase: 'ready' });
		await new Promise<void>((resolve) => process.once('message', () => resolve()));
		const startEpochMs = Date.now();
		const result = await runNode({
			parameters: {
				operation: 'editImage',
				model: 'wan2.7-image',
				prompt: '={{ $json.prompt }}',
				inputType: 'binary',
				binaryPropertyName: 'data',
				size: '1K',
				numberOfImages: 1,
				runMode: 'wait',
				outputFormat: 'binary',
				options: {},
			},
			credentials: { apiKey: args.apiKey, region: args.region, baseUrl: args.baseUrl },
			items,
		});
		const endEpochMs = Date.now();
		// What a user sees as an error: the execution's error, or an output item carrying one.
		const itemErrors = result.items.filter((it) => it.json && (it.json as { error?: unknown }).error !== undefined).length;
		await sendToParent({
			phase: 'result',
			status: result.status,
			error: result.error ? `${result.error.message} ${result.error.description ?? ''}`.trim() : undefined,
			outputItems: result.items.length,
			withBinary: result.items.filter((it) => it.binary && Object.keys(it.binary).length).length,
			itemErrors,
			startEpochMs,
			endEpochMs,
			wallMs: endEpochMs - startEpochMs,
		});
	} finally {
		store.cleanup();
	}
}

runWorker(main);
