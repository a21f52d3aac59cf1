/**
 * `npm run demo`: runs the example workflows (examples/*.json) through the real n8n engine and
 * writes every output image to demo-output/<example>/.
 *
 * - No DASHSCOPE_API_KEY: against the local DashScope emulator — no key, no network.
 * - DASHSCOPE_API_KEY set: against the real service (DASHSCOPE_REGION, default ap-southeast-1;
 *   optional DASHSCOPE_WORKSPACE_ID, DASHSCOPE_BASE_URL). This bills real images.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { EMULATOR_KEYS, startEmulator, type Emulator } from '../test/emulator';
import { BinaryStore, runWorkflow, type TestCredentials, type WorkflowJson } from '../test/harness/n8nEngine';

const root = resolve(__dirname, '..');
const examplesDir = join(root, 'examples');
const outputDir = resolve(process.env.DEMO_OUTPUT_DIR ?? join(root, 'demo-output'));

async function main(): Promise<number> {
	const realKey = process.env.DASHSCOPE_API_KEY?.trim();
	let emulator: Emulator | undefined;
	let credentials: TestCredentials;
	if (realKey) {
		credentials = {
			apiKey: realKey,
			region: process.env.DASHSCOPE_REGION ?? 'ap-southeast-1',
			workspaceId: process.env.DASHSCOPE_WORKSPACE_ID ?? '',
			baseUrl: process.env.DASHSCOPE_BASE_URL ?? '',
		};
		console.log(`Running the examples against the REAL DashScope service (${credentials.region}); images are billed.\n`);
	} else {
		emulator = await startEmulator({ timing: { pendingMs: 100, runningMs: 400 } });
		credentials = { apiKey: EMULATOR_KEYS['ap-southeast-1'], region: 'ap-southeast-1', baseUrl: emulator.baseUrl('ap-southeast-1') };
		console.log(`No DASHSCOPE_API_KEY: running the examples against the local DashScope emulator at ${emulator.url}\n`);
	}

	const store = new BinaryStore();
	await store.init();
	rmSync(outputDir, { recursive: true, force: true });
	let failures = 0;
	try {
		for (const file of readdirSync(examplesDir).filter((name) => name.endsWith('.json')).sort()) {
			const workflow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as WorkflowJson & { name: string };
			const foreign = workflow.nodes.filter(
				(node) => !node.type.startsWith('n8n-nodes-alibaba-wan.alibabaWan') && node.type !== 'n8n-nodes-base.manualTrigger',
			);
			const isTool = workflow.nodes.some((node) => node.type.endsWith('alibabaWanTool'));
			if (foreign.length || isTool) {
				console.log(`- ${file}: skipped (needs ${foreign.map((node) => node.type).join(', ')}: import it into n8n)`);
				continue;
			}
			const started = Date.now();
			const result = await runWorkflow(workflow, credentials);
			const seconds = ((Date.now() - started) / 1000).toFixed(1);
			const last = workflow.nodes[workflow.nodes.length - 1].name;
			const items = result.outputs[last] ?? [];
			if (result.status !== 'success' || result.error) {
				failures++;
				console.log(`- ${file}: FAILED after ${seconds} s — ${result.error?.message ?? result.status}`);
				if (result.error?.description) console.log(`    ${result.error.description}`);
				continue;
			}
			const folder = join(outputDir, file.replace(/\.json$/, ''));
			mkdirSync(folder, { recursive: true });
			const written: string[] = [];
			for (const item of items) {
				for (const binary of Object.values(item.binary ?? {})) {
					const bytes = await store.read(binary);
					const path = join(folder, binary.fileName ?? `image-${written.length + 1}.png`);
					writeFileSync(path, bytes);
					written.push(`${binary.fileName} (${binary.mimeType}, ${(bytes.length / 1024).toFixed(0)} KB)`);
				}
			}
			const tasks = [...new Set(items.map((item) => item.json.taskId))].join(', ');
			console.log(`- ${file}: ok in ${seconds} s — "${workflow.name}"`);
			console.log(`    ${items.length} item(s) from "${last}", task(s) ${tasks}`);
			for (const line of written) console.log(`    wrote ${join(folder, line)}`);
			if (!written.length) failures++;
		}
	} finally {
		store.cleanup();
		if (emulator) {
			const counters = emulator.counters();
			console.log(`\nEmulator: ${counters.submissions} task(s) submitted, ${counters.queries} status queries, ${counters.resultDownloads} image download(s).`);
			await emulator.close();
		}
	}
	console.log(failures ? `\n${failures} example(s) failed.` : `\nAll examples ran. Images are in ${outputDir}`);
	return failures ? 1 : 0;
}

main().then(
	(code) => process.exit(code),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
