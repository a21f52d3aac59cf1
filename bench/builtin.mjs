// Side by side in real n8n 2.41.1: the P1 workload (20 edit items, 3 s tasks, 5 running slots) through
// n8n's built-in Alibaba Cloud node (@n8n/n8n-nodes-langchain `alibabaCloud`, Image → Generate with a
// Wan edit model and a binary reference image) and through this pack's node, each with `n8n execute`
// against the same DashScope emulator, once with the emulator queueing tasks beyond the running limit
// (`--concurrency queue`) and once answering 429 (`--concurrency reject`).
//
// Plain Node ESM (run by bench/run.ts with Node 20) because it reuses the e2e harness (test/e2e/lib),
// which runs n8n on the cached Node 24. Prints progress on stdout and its results as JSON on the LAST line.
//
// How the built-in node reaches the emulator: its credential `alibabaCloudApi` has a hidden field `url`
// whose default is an expression picking DashScope's host by region; a stored value replaces that
// default (n8n applies defaults only to missing fields), so the imported credential sets
// `url = http://127.0.0.1:<port>/ap-southeast-1` and the node's paths (`/api/v1/...`) land on the
// emulator's Singapore region. Nothing of the node is edited.
//
// argv: <work dir>
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

import { ensureInstalled, defaultCacheDir } from '../test/e2e/lib/install.mjs';
import { N8nInstance } from '../test/e2e/lib/n8n.mjs';
import { ProcessRegistry } from '../test/e2e/lib/procs.mjs';
import { freePort, run } from '../test/e2e/lib/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.join(here, '..');
const REGION = 'ap-southeast-1';
const ITEMS = 20;
const RUNNING_MS = 3000;
const IDEAL_MS = 12_000;
const PKG = 'n8n-nodes-alibaba-wan';

const work = path.resolve(process.argv[2] ?? fs.mkdtempSync('/tmp/wan-builtin-'));
fs.mkdirSync(work, { recursive: true });
const registry = new ProcessRegistry();
const say = (m) => process.stdout.write(`[builtin] ${m}\n`);

// The cache the e2e harness filled: E2E_CACHE_DIR, else its default, else the cold-install copy in /tmp.
function cacheDir() {
	if (process.env.E2E_CACHE_DIR) return process.env.E2E_CACHE_DIR;
	const def = defaultCacheDir();
	return fs.existsSync(path.join(def, 'n8n-2.41.1')) ? def : '/tmp/e2e-cache-cold';
}

/** A 512×512 opaque PNG (a few colour bands; compresses to a small data string for the Code node). */
function inputPngBase64() {
	const png = new PNG({ width: 512, height: 512 });
	for (let y = 0; y < 512; y++) {
		for (let x = 0; x < 512; x++) {
			const i = (y * 512 + x) * 4;
			png.data[i] = (x >> 6) * 32;
			png.data[i + 1] = (y >> 6) * 32;
			png.data[i + 2] = 160;
			png.data[i + 3] = 255;
		}
	}
	return PNG.sync.write(png, { colorType: 2 }).toString('base64');
}

/** Manual Trigger → Code (20 items, each a prompt with the emulator's running-time token and a binary PNG) → node. */
function workflow(id, node) {
	const b64 = inputPngBase64();
	const jsCode = `const b64 = ${JSON.stringify(b64)};
return Array.from({ length: ${ITEMS} }, (_, i) => ({
  json: { prompt: 'Side by side item ' + (i + 1) + ': make the background light blue [emulator:running-ms=${RUNNING_MS}]' },
  binary: { data: { data: b64, mimeType: 'image/png', fileName: 'in-' + (i + 1) + '.png', fileExtension: 'png' } },
}));`;
	return {
		id,
		name: `bench ${id}`,
		active: false,
		nodes: [
			{ id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ id: 'c', name: 'Items', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode } },
			{ id: 'n', name: 'Edit', position: [400, 0], ...node },
		],
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Edit', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

const builtinNode = (credId) => ({
	type: '@n8n/n8n-nodes-langchain.alibabaCloud',
	typeVersion: 1.1,
	parameters: {
		resource: 'image',
		operation: 'generate',
		modelId: { __rl: true, mode: 'id', value: 'wan2.7-image' },
		prompt: '={{ $json.prompt }}',
		referenceImages: { values: [{ inputType: 'binary', binaryPropertyName: 'data' }] },
		downloadImage: true,
		imageOptions: {},
	},
	credentials: { alibabaCloudApi: { id: credId, name: 'Qwen Cloud (bench emulator)' } },
});

const ourNode = (credId) => ({
	type: `${PKG}.alibabaWan`,
	typeVersion: 2,
	parameters: {
		resource: 'image',
		operation: 'editImage',
		model: 'wan2.7-image',
		inputType: 'binary',
		binaryPropertyName: 'data',
		prompt: '={{ $json.prompt }}',
		size: '1K',
		numberOfImages: 1,
		outputFormat: 'binary',
		options: {},
	},
	credentials: { alibabaDashScopeApi: { id: credId, name: 'DashScope (bench emulator)' } },
});

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	if (!s.length) return NaN;
	const m = (s.length - 1) / 2;
	return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
}

async function startEmulator(policy) {
	const port = await freePort();
	const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
	const args = [path.join(repoRoot, 'test', 'emulator', 'cli.ts'), '--port', String(port), '--pending-ms', '0', '--running-ms', String(RUNNING_MS), '--concurrency', policy];
	const svc = registry.spawnService(`emulator ${policy}`, tsx, args, { cwd: repoRoot, env: process.env, logFile: path.join(work, `emulator-${policy}.log`) });
	const m = await svc.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, { timeoutMs: 120_000 });
	const url = m[1];
	const get = async (p) => (await fetch(`${url}/__emulator/${p}`, { signal: AbortSignal.timeout(30_000) })).json();
	return { svc, url, get, reset: () => fetch(`${url}/__emulator/reset`, { method: 'POST' }) };
}

/** From the emulator's task list and request log: wall of the node's work, lags, queries, 429s. */
async function measure(emu) {
	const [tasks, requests, counters] = await Promise.all([emu.get('tasks'), emu.get('requests'), emu.get('counters')]);
	const mine = tasks.filter((t) => t.mode === 'async');
	const ids = new Set(mine.map((t) => t.taskId));
	const taskOf = (r) => r.path.split(/[/?]/).find((p) => ids.has(p));
	const lags = [];
	for (const t of mine) {
		if (t.endTime === undefined) continue;
		const dl = requests.filter((r) => r.kind === 'result' && taskOf(r) === t.taskId).map((r) => r.at);
		if (dl.length) lags.push(Math.min(...dl) - t.endTime);
	}
	const api = requests.filter((r) => r.kind !== 'result');
	const first = Math.min(...requests.map((r) => r.at));
	const last = Math.max(...requests.map((r) => r.at));
	return {
		tasks: mine.length,
		succeeded: mine.filter((t) => t.status === 'SUCCEEDED').length,
		queries: requests.filter((r) => r.kind === 'query').length,
		submitAttempts: counters.submitAttempts,
		throttled: counters.throttled,
		medianLagMs: median(lags),
		maxLagMs: lags.length ? Math.max(...lags) : NaN,
		firstToLastRequestMs: last - first,
		apiRequests: api.length,
	};
}

async function main() {
	const install = await ensureInstalled({ cacheDir: cacheDir(), withQueueDeps: false, withBrowser: false, registry });
	say(`n8n from ${install.cacheDir}`);
	// This pack as n8n installs it (npm pack of the current dist/; bench/run.ts builds first).
	const packDir = path.join(work, 'pack');
	fs.mkdirSync(packDir, { recursive: true });
	const packed = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: repoRoot, registry, label: 'npm pack' });
	const tgz = path.join(packDir, JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0].filename);

	const results = [];
	const lines = [];
	for (const policy of ['queue', 'reject']) {
		const emu = await startEmulator(policy);
		try {
			const inst = new N8nInstance({
				install,
				registry,
				name: `bench-${policy}`,
				dir: path.join(work, `n8n-${policy}`),
				encryptionKey: crypto.randomBytes(24).toString('hex'),
				port: await freePort(),
				// Log level stays 'info': `n8n execute --rawOutput` prints its JSON through the info logger.
				extraEnv: { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem', DB_TYPE: 'sqlite', EXECUTIONS_MODE: 'regular', N8N_LOG_LEVEL: 'info' },
			});
			inst.installPackage(tgz, PKG);
			await inst.importCredential({
				id: 'benchQwenCloudCred1',
				name: 'Qwen Cloud (bench emulator)',
				type: 'alibabaCloudApi',
				data: { apiKey: `sk-emu-${REGION}`, region: REGION, url: `${emu.url}/${REGION}` },
			});
			await inst.importCredential({
				id: 'benchDashScopeCred1',
				name: 'DashScope (bench emulator)',
				type: 'alibabaDashScopeApi',
				data: { apiKey: `sk-emu-${REGION}`, region: REGION, workspaceId: '', baseUrl: `${emu.url}/${REGION}/api/v1` },
			});
			const flows = [
				{ who: 'ours', wf: workflow('benchOursWorkflow1', ourNode('benchDashScopeCred1')) },
				{ who: 'built-in', wf: workflow('benchBuiltinFlow01', builtinNode('benchQwenCloudCred1')) },
			];
			for (const f of flows) await inst.importWorkflow(f.wf);
			const byWho = {};
			for (const f of flows) {
				await emu.reset();
				say(`${f.who}, emulator ${policy}: n8n execute …`);
				const r = await inst.execute(f.wf.id, { timeoutMs: 20 * 60_000 });
				const m = await measure(emu);
				const runData = r.output?.data?.resultData;
				const err = runData?.error?.message;
				const out = runData?.runData?.Edit?.[0]?.data?.main?.[0] ?? [];
				const row = {
					who: f.who,
					policy,
					ok: r.ok && !err,
					error: err ?? (r.ok ? undefined : `exit ${r.code}; log ${r.res.logFile}`),
					outputItems: out.length,
					withBinary: out.filter((it) => it.binary && Object.keys(it.binary).length).length,
					processMs: r.ms,
					...m,
				};
				results.push(row);
				byWho[f.who] = row;
				say(JSON.stringify(row));
			}
			const o = byWho.ours;
			const b = byWho['built-in'];
			const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
			for (const row of [o, b]) {
				lines.push(
					`${row.who.padEnd(8)} emulator ${policy.padEnd(6)}: node work ${s(row.firstToLastRequestMs)} (÷ ideal 12 s = ${(row.firstToLastRequestMs / IDEAL_MS).toFixed(2)}),` +
						` n8n execute ${s(row.processMs)}, ${row.succeeded}/${ITEMS} tasks, ${row.withBinary} items with images, lag median ${s(row.medianLagMs)} (max ${s(row.maxLagMs)}),` +
						` ${row.queries} queries, ${row.throttled} × 429 of ${row.submitAttempts} submit attempts${row.ok ? '' : `; FAILED: ${row.error}`}`,
				);
			}
			lines.push(`built-in ÷ ours, emulator ${policy}: ${(b.firstToLastRequestMs / o.firstToLastRequestMs).toFixed(1)}× the node work time`);
		} finally {
			await emu.svc.stop();
		}
	}
	process.stdout.write(`${JSON.stringify({ results, lines })}\n`);
}

// Stopped from outside (bench/run.ts's time limit, Ctrl-C): stop the emulator and n8n process groups too.
for (const sig of ['SIGINT', 'SIGTERM']) {
	process.once(sig, () => {
		void registry.stopAll().finally(() => process.exit(130));
	});
}

main()
	.catch((e) => {
		process.stderr.write(`bench/builtin.mjs failed: ${e.stack ?? e}\n`);
		process.exitCode = 1;
	})
	.finally(async () => {
		await registry.stopAll();
	});
