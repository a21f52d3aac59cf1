/**
 * `npm run demo`: runs the example workflows (examples/*.json) through the real n8n engine and
 * writes every output image to demo-output/<example>/.
 *
 * - No DASHSCOPE_API_KEY: against the local DashScope emulator — no key, no network.
 * - DASHSCOPE_API_KEY set: against the real service (DASHSCOPE_REGION, default ap-southeast-1;
 *   optional DASHSCOPE_WORKSPACE_ID, DASHSCOPE_BASE_URL). This bills real images.
 * - Examples whose node uses Runware (Service: Runware) run against the local Runware emulator, or with
 *   RUNWARE_API_KEY set against the real Runware API (optional RUNWARE_BASE_URL). That bills real images.
 * - Examples whose node uses the OpenAI-compatible gateway service run against the local gateway
 *   emulator, or against a real gateway when WAN_GATEWAY_BASE_URL and WAN_GATEWAY_API_KEY are set (billed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { EMULATOR_KEYS, startEmulator, type Emulator } from '../test/emulator';
import { RUNWARE_EMULATOR_KEYS, startRunwareEmulator, type RunwareEmulator } from '../test/emulator-runware';
import { GATEWAY_EMULATOR_KEYS, startGatewayEmulator, type GatewayEmulator } from '../test/emulator-gateway';
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

	// Runware examples: the real API with RUNWARE_API_KEY, else the local Runware emulator (started on first use).
	const runwareKey = process.env.RUNWARE_API_KEY?.trim();
	let runwareEmulator: RunwareEmulator | undefined;
	const runwareCredentials = async (): Promise<TestCredentials> => {
		if (runwareKey) return { apiKey: runwareKey, baseUrl: process.env.RUNWARE_BASE_URL ?? '' };
		runwareEmulator ??= await startRunwareEmulator({ timing: { queueMs: 100, perImageMs: 200 } });
		return { apiKey: RUNWARE_EMULATOR_KEYS[0], baseUrl: runwareEmulator.apiUrl };
	};
	const usesRunware = (workflow: WorkflowJson) => workflow.nodes.some((node) => node.parameters?.service === 'runware');
	// The gateway's credential, for examples run through the OpenAI-compatible gateway service.
	let gateway: GatewayEmulator | undefined;
	const gatewayCredentials = async (): Promise<TestCredentials> => {
		const baseUrl = process.env.WAN_GATEWAY_BASE_URL?.trim();
		const apiKey = process.env.WAN_GATEWAY_API_KEY?.trim();
		if (baseUrl && apiKey) return { apiKey, baseUrl };
		gateway ??= await startGatewayEmulator({ timing: { generationMs: 300, perImageMs: 100 } });
		return { apiKey: GATEWAY_EMULATOR_KEYS[0], baseUrl: gateway.apiUrl };
	};

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
			if (isTool) {
				if (!runAgentExample(file)) failures++;
				continue;
			}
			if (foreign.length) {
				console.log(`- ${file}: skipped (needs ${foreign.map((node) => node.type).join(', ')}: import it into n8n)`);
				continue;
			}
			const started = Date.now();
			const onRunware = usesRunware(workflow);
			if (onRunware && !runwareEmulator && !runwareKey) console.log('  (Runware example: starting the local Runware emulator; RUNWARE_API_KEY unset)');
			const viaGateway = workflow.nodes.some((node) => node.parameters?.service === 'gateway');
			if (viaGateway) console.log(`  (gateway example: through ${process.env.WAN_GATEWAY_BASE_URL ? 'the gateway at WAN_GATEWAY_BASE_URL (billed)' : 'the local gateway emulator'})`);
			const result = await runWorkflow(
				workflow,
				onRunware ? await runwareCredentials() : viaGateway ? await gatewayCredentials() : credentials,
			);
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
			const costs = items.map((item) => item.json.cost).filter((cost): cost is number => typeof cost === 'number');
			const cost = costs.length ? `, cost $${costs.reduce((sum, value) => sum + value, 0).toFixed(3)}` : '';
			console.log(`    ${items.length} item(s) from "${last}", task(s) ${tasks}${cost}`);
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
		if (runwareEmulator) {
			const counters = runwareEmulator.counters();
			console.log(`Runware emulator: ${counters.tasksCreated} task(s) created, ${counters.polls} getResponse poll(s), ${counters.downloads} image download(s).`);
			await runwareEmulator.close();
		}
		if (gateway) {
			const counters = gateway.counters();
			console.log(`Gateway emulator: ${counters.generationRequests} generation request(s), ${counters.billedImages} image(s), ${counters.downloads} download(s).`);
			await gateway.close();
		}
	}
	console.log(failures ? `\n${failures} example(s) failed.` : `\nAll examples ran. Images are in ${outputDir}`);
	return failures ? 1 : 0;
}

/**
 * The AI Agent example needs n8n's AI Agent, chat trigger and OpenAI Chat Model, which only a real n8n
 * has: it runs in the real n8n 2.41.1 that `npm run test:e2e` caches (its phase `agent`), with the
 * scripted chat emulator (test/chat-emulator/) as the model and the DashScope emulator behind the
 * tool, never the real service. Without that cache it is skipped (DEMO_AGENT_INSTALL=1 installs it,
 * about 7 minutes and 3.5 GB).
 */
function runAgentExample(file: string): boolean {
	const cacheDir = process.env.E2E_CACHE_DIR ?? join(homedir(), '.cache', 'n8n-nodes-alibaba-wan-e2e');
	const n8nVersion = process.env.E2E_N8N_VERSION ?? '2.41.1';
	const installed = existsSync(join(cacheDir, `n8n-${n8nVersion}`, '.e2e-install-complete'));
	if (!installed && process.env.DEMO_AGENT_INSTALL !== '1') {
		console.log(`- ${file}: skipped (needs a real n8n ${n8nVersion}: run \`npm run test:e2e\` once, or set E2E_CACHE_DIR / DEMO_AGENT_INSTALL=1)`);
		return true;
	}
	console.log(`- ${file}: running in real n8n ${n8nVersion} (${cacheDir}) with the chat emulator as the model ...`);
	const started = Date.now();
	const run = spawnSync('node', [join(root, 'test', 'e2e', 'run.mjs')], {
		cwd: root,
		stdio: ['ignore', 'pipe', 'pipe'],
		encoding: 'utf8',
		env: { ...process.env, E2E_PHASES: 'agent', E2E_SKIP_BUILD: '1', E2E_CACHE_DIR: cacheDir },
	});
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	const lines = `${run.stdout}`.split('\n').filter((line) => /^\[e2e[^\]]*\] (PASS|FAIL)\s+agent: /.test(line));
	for (const line of lines) console.log(`    ${line.replace(/^\[e2e[^\]]*\]\s+/, '').slice(0, 1200)}`);
	if (run.status !== 0) {
		console.log(`    FAILED after ${seconds} s (exit ${run.status}):\n${`${run.stdout}\n${run.stderr}`.split('\n').slice(-15).join('\n')}`);
		return false;
	}
	console.log(`    ok in ${seconds} s`);
	return true;
}

main().then(
	(code) => process.exit(code),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
