// The Alibaba Wan suite for the e2e harness: how to build/pack the package, start the DashScope
// emulator (and the Runware emulator for the Runware examples), which credentials and workflows to
// import, and what to assert on their results.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { run, log } from './lib/util.mjs';
import { cleanEnv } from './lib/install.mjs';
import { assert, brief, executionError, findKeys, nodeItems, nodeRunErrors, rewriteCredentials } from './lib/workflows.mjs';
import { browserChecks } from './browser-wan.mjs';
import { agentCases, agentWorkflow, openAiCredential, runAgentCase } from './agent-wan.mjs';

const PKG = 'n8n-nodes-alibaba-wan';
const NODE_TYPE = `${PKG}.alibabaWan`;
const CRED_TYPE = 'alibabaDashScopeApi';
const REGION = 'ap-southeast-1';
const RUNWARE_CRED_TYPE = 'runwareApi';
const RUNWARE_KEY = 'rw-emu-key-1';
const ENTRY_POINTS = [
	'dist/nodes/AlibabaWan/AlibabaWan.node.js',
	'dist/credentials/AlibabaDashScopeApi.credentials.js',
	'dist/credentials/RunwareApi.credentials.js',
	'dist/credentials/WanGatewayApi.credentials.js',
];
/** The OpenAI-compatible gateway service: its credential type and the gateway emulator's first key. */
const GATEWAY_CRED_TYPE = 'wanGatewayApi';
const GATEWAY_KEY = 'gw-emu-key-1';
const IMAGE_OPS = new Set(['generateImage', 'editImage', 'fuseImages', 'generateImageSet']);
const START_TYPES = new Set(['n8n-nodes-base.manualTrigger', 'n8n-nodes-base.executeWorkflowTrigger']);

/** Fixed 16-character workflow id: the example's own when it has one, else derived from the file name. */
function exampleId(file, workflow) {
	if (typeof workflow.id === 'string' && /^[A-Za-z0-9]{16}$/.test(workflow.id)) return workflow.id;
	return 'wanE2E' + crypto.createHash('sha1').update(path.basename(file)).digest('hex').slice(0, 10);
}

/** Build and pack run in the package itself: its own .npmrc applies, nothing inherited from the npm above us. */
function npmEnv() {
	return cleanEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
}

function sumCounters(c) {
	return { tasks: (c.submissions ?? 0) + (c.syncCalls ?? 0), submissions: c.submissions ?? 0, syncCalls: c.syncCalls ?? 0 };
}

export default {
	name: 'alibaba-wan',

	/** `npm run build` + `npm pack` → tarball in the temp folder. E2E_SKIP_BUILD=1 packs the existing dist/. */
	async preparePackage(ctx) {
		const { repoRoot, tmpRoot, logDir } = ctx;
		const logFile = path.join(logDir, 'build-pack.log');
		if (process.env.E2E_SKIP_BUILD !== '1') {
			if (!fs.existsSync(path.join(repoRoot, 'node_modules'))) {
				throw new Error(`${repoRoot}/node_modules is missing: run \`npm ci\` (or npm install) in the package first`);
			}
			log('npm run build ...');
			await run('npm', ['run', 'build'], { cwd: repoRoot, env: npmEnv(), logFile, registry: ctx.registry, label: 'npm run build' });
		}
		for (const f of ENTRY_POINTS) {
			if (!fs.existsSync(path.join(repoRoot, f))) throw new Error(`${f} missing after the build (see ${logFile})`);
		}
		const packDir = path.join(tmpRoot, 'pack');
		fs.mkdirSync(packDir, { recursive: true });
		const res = await run('npm', ['pack', '--json', '--pack-destination', packDir], {
			cwd: repoRoot,
			env: npmEnv(),
			registry: ctx.registry,
			label: 'npm pack',
		});
		const info = JSON.parse(res.stdout.slice(res.stdout.indexOf('[')))[0];
		const files = info.files.map((f) => f.path);
		for (const f of ENTRY_POINTS) assert(files.includes(f), `npm pack: ${f} is not in the tarball (files: ${files.join(', ')})`);
		assert(info.name === PKG, `npm pack: package name ${info.name}, expected ${PKG}`);
		return {
			name: PKG,
			tgz: path.join(packDir, info.filename),
			version: info.version,
			summary: `${info.filename} ${(info.size / 1024).toFixed(0)} KiB, ${files.length} files, entry points present`,
		};
	},

	emulatorCommand(ctx, port) {
		const cli = path.join(ctx.repoRoot, 'test', 'emulator', 'cli.ts');
		const extra = (process.env.E2E_EMULATOR_ARGS || '').split(' ').filter(Boolean);
		return tsxCommand(ctx, cli, ['--port', String(port), ...extra]);
	},

	/**
	 * The other services' emulators, by name (ctx.extraEmulators[name]): Runware (test/emulator-runware/) for
	 * examples whose node has Service: Runware, and the gateway (test/emulator-gateway/, seed dialect) for
	 * examples run through the gateway service.
	 */
	extraEmulators() {
		return [
			{
				name: 'runware',
				command: (ctx, port) => tsxCommand(ctx, path.join(ctx.repoRoot, 'test', 'emulator', 'cli.ts'), ['--service', 'runware', '--port', String(port)]),
			},
			{
				name: 'gateway',
				command: (ctx, port) => {
					const local = path.join(ctx.repoRoot, 'node_modules', '.bin', 'tsx');
					const cli = path.join(ctx.repoRoot, 'test', 'emulator', 'cli.ts');
					const args = [cli, '--service', 'gateway', '--port', String(port), '--generation-ms', '200', '--per-image-ms', '50'];
					return fs.existsSync(local) ? { cmd: local, args } : { cmd: 'npx', args: ['--no-install', 'tsx', ...args] };
				},
			},
		];
	},

	/** The Runware credential and the gateway credential (seed dialect settings), each pointed at its emulator. */
	extraCredentials(ctx) {
		return [runwareCredential(ctx), gatewayCredential(ctx)];
	},

	credential(ctx) {
		return {
			id: 'wanE2ECredential',
			name: 'Alibaba DashScope (e2e emulator)',
			type: CRED_TYPE,
			// Decrypted data: `n8n import:credentials` encrypts a `data` object with N8N_ENCRYPTION_KEY on import.
			data: { apiKey: `sk-emu-${REGION}`, region: REGION, workspaceId: '', baseUrl: `${ctx.emulator.url}/${REGION}/api/v1` },
		};
	},

	/** examples/*.json (or $E2E_EXAMPLES_DIR), prepared for import and paired with assertions. */
	async cliWorkflows(ctx) {
		const dir = process.env.E2E_EXAMPLES_DIR ? path.resolve(process.env.E2E_EXAMPLES_DIR) : path.join(ctx.repoRoot, 'examples');
		const files = fs.existsSync(dir)
			? fs
					.readdirSync(dir)
					.filter((f) => f.endsWith('.json'))
					.sort()
			: [];
		if (!files.length) {
			ctx.results.fail('cli: example workflows', `no *.json in ${dir}`);
			return [];
		}
		const specs = [];
		for (const f of files) {
			const file = path.join(dir, f);
			let workflow;
			try {
				workflow = JSON.parse(fs.readFileSync(file, 'utf8'));
			} catch (e) {
				ctx.results.fail(`cli: ${f}`, `not valid JSON: ${e.message}`);
				continue;
			}
			const problems = [];
			let importOnly = null;
			const wanNodes = (workflow.nodes || []).filter((n) => /\.alibabaWan$/.test(n.type ?? ''));
			const toolNodes = (workflow.nodes || []).filter((n) => /\.alibabaWanTool$/.test(n.type ?? ''));
			for (const n of wanNodes) {
				if (n.type !== NODE_TYPE) problems.push(`node "${n.name}" has type ${n.type}, expected ${NODE_TYPE} (installed packages are ${PKG}.*; CUSTOM.* only exists for ~/.n8n/custom)`);
			}
			for (const n of toolNodes) {
				if (n.type !== `${NODE_TYPE}Tool`) problems.push(`node "${n.name}" has type ${n.type}, expected ${NODE_TYPE}Tool`);
			}
			if (!wanNodes.length && !toolNodes.length) problems.push(`no ${NODE_TYPE} node`);
			if (!(workflow.nodes || []).some((n) => START_TYPES.has(n.type))) {
				// e.g. the chat-triggered AI-agent example: `n8n execute` cannot start a chat. It is imported here
				// (its node types are checked against the running n8n); the phase `agent` runs it through its chat webhook.
				const trig = (workflow.nodes || []).find((n) => /trigger/i.test(n.type ?? ''));
				importOnly = `starts with ${trig?.type ?? 'no trigger'}, not a Manual Trigger: \`n8n execute\` cannot run it; imported, node types checked against the running n8n${f === 'agent-tool.json' ? '; run by the phase agent' : ''}`;
			}
			const id = exampleId(f, workflow);
			const name = workflow.name || f;
			const prepared = { ...workflow, id, name: `${name} [e2e]`, active: false };
			delete prepared.pinData; // run the real nodes, never pinned output
			delete prepared.versionId;
			delete prepared.meta;
			const runware = ctx.extraEmulators?.runware;
			const gateway = ctx.extraEmulators?.gateway;
			const onRunware = wanNodes.some((n) => n.parameters?.service === 'runware');
			const emulator = onRunware ? runware : ctx.emulator;
			const rewired =
				rewriteCredentials(prepared, CRED_TYPE, ctx.cred) +
				(runware ? rewriteCredentials(prepared, RUNWARE_CRED_TYPE, runwareCredential(ctx)) : 0) +
				rewriteCredentials(prepared, GATEWAY_CRED_TYPE, gatewayCredential(ctx));
			if (onRunware && !runware) problems.push('a Runware example, but the Runware emulator is not running');
			let before = null;
			let gatewayBefore = null;
			specs.push({
				id,
				name: `${f} (${name})`,
				file,
				workflow: prepared,
				importOnly,
				problems,
				nodeTypes: [...new Set((workflow.nodes || []).map((n) => n.type))],
				before: async () => {
					assert(!problems.length, problems.join('; '));
					before = await emulator.counters();
					gatewayBefore = gateway ? await gateway.counters() : null;
				},
				assert: async (out, c) => {
					assert(!problems.length, problems.join('; '));
					const after = await emulator.counters();
					const gatewayAfter = gateway ? await gateway.counters() : null;
					return assertWanRun(out, c, { wanNodes, before, after, rewired, gatewayBefore, gatewayAfter });
				},
			});
		}
		return specs;
	},

	/** Webhook (raw PNG body) → Alibaba Wan Edit Image → edited image returned as the HTTP response. */
	webhookWorkflow(ctx, { mode }) {
		const id = mode === 'queue' ? 'wanE2EHookQueue1' : 'wanE2EHookRegul1';
		const hookPath = `wan-e2e-edit-${mode}`;
		const workflow = {
			id,
			name: `Wan e2e webhook edit (${mode})`,
			active: false,
			settings: { executionOrder: 'v1', saveDataSuccessExecution: 'all', saveManualExecutions: true },
			connections: { Webhook: { main: [[{ node: 'Edit Image', type: 'main', index: 0 }]] } },
			nodes: [
				{
					id: 'a0000000-0000-4000-8000-000000000001',
					name: 'Webhook',
					type: 'n8n-nodes-base.webhook',
					typeVersion: 2,
					position: [0, 0],
					webhookId: mode === 'queue' ? '6b1f3c52-8f65-4c34-9b7e-0c5e2d4a0002' : '6b1f3c52-8f65-4c34-9b7e-0c5e2d4a0001',
					parameters: {
						httpMethod: 'POST',
						path: hookPath,
						responseMode: 'lastNode',
						responseData: 'firstEntryBinary',
						responseBinaryPropertyName: 'data',
						options: { binaryPropertyName: 'data' },
					},
				},
				{
					id: 'a0000000-0000-4000-8000-000000000002',
					name: 'Edit Image',
					type: NODE_TYPE,
					typeVersion: 1,
					position: [240, 0],
					parameters: {
						operation: 'editImage',
						model: 'wan2.7-image',
						inputType: 'binary',
						binaryPropertyName: 'data',
						prompt: 'Turn the square blue and add a soft shadow',
						runMode: 'wait',
						outputFormat: 'binary',
						outputItems: 'perImage',
					},
					credentials: { [CRED_TYPE]: { id: ctx.cred.id, name: ctx.cred.name } },
				},
			],
		};
		const input = ctx.images.makePng(512, 384, [30, 120, 220, 255]);
		return {
			id,
			path: hookPath,
			workflow,
			request: async () => ({
				headers: { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="input.png"' },
				body: input,
				before: await ctx.emulator.counters(),
			}),
			// Concurrent calls share the emulator, so the counter delta is "at least one task".
			assert: async (res, c, { before }) => {
				const ct = res.headers['content-type'] || '';
				assert(res.status === 200, `HTTP ${res.status} (${ct}): ${res.body.toString('utf8').slice(0, 500)}`);
				const sniffed = c.images.sniffMime(res.body);
				assert(sniffed === 'image/png', `response is not a PNG (content-type ${ct}, first bytes ${res.body.subarray(0, 16).toString('hex')}): ${res.body.toString('utf8').slice(0, 300)}`);
				assert(/^image\/png/.test(ct), `content-type ${ct}, expected image/png`);
				assert(!res.body.equals(input), 'the response is the unmodified input image');
				const size = c.images.pngSize(res.body);
				const after = await ctx.emulator.counters();
				const d = sumCounters(after).tasks - sumCounters(before).tasks;
				assert(d >= 1, `emulator saw no generation request (counters before ${JSON.stringify(before)} after ${JSON.stringify(after)})`);
				return `HTTP 200 ${ct} ${res.body.length} B ${size.width}x${size.height}, emulator +${d} task(s)`;
			},
		};
	},

	/** The editor in Chromium: node panel search, grouped actions, per-model fields, a run, errors, credential test. */
	browserChecks,

	/** The AI Agent example three times: as shipped (URLs), with Output = Binary Files, and answering the chat as a stream. */
	agentWorkflows(ctx, chatBaseUrl) {
		const dashScopeCred = ctx.cred;
		return {
			credential: openAiCredential(chatBaseUrl),
			workflows: {
				urls: agentWorkflow(ctx.repoRoot, { variant: 'urls', dashScopeCred }),
				binary: agentWorkflow(ctx.repoRoot, { variant: 'binary', dashScopeCred, toolParameters: { outputFormat: 'binary' } }),
				stream: agentWorkflow(ctx.repoRoot, { variant: 'stream', dashScopeCred, responseMode: 'streaming' }),
			},
		};
	},
	agentCases,
	runAgentCase,

	/** Types the running n8n must know (besides every type used by the imported examples). */
	requiredNodeTypes() {
		return [NODE_TYPE, 'n8n-nodes-base.webhook'];
	},

	/** Credential "Test" button (POST /rest/credentials/test): must list tasks, never create one. */
	credentialTests(ctx) {
		const good = { id: ctx.cred.id, name: ctx.cred.name, type: CRED_TYPE, data: { ...ctx.cred.data } };
		const noTask = (before, after) => {
			for (const k of ['submissions', 'submitAttempts', 'syncCalls']) {
				assert((after[k] ?? 0) === (before[k] ?? 0), `${k} changed ${before[k]} -> ${after[k]}: the credential test must not create a task`);
			}
		};
		return [
			{
				name: 'valid emulator key -> OK, task list read, no task created',
				credentials: good,
				assert: ({ result, before, after }) => {
					assert(result?.status === 'OK', `expected status OK, got ${JSON.stringify(result)}`);
					noTask(before, after);
					assert(after.lists > before.lists, `GET /tasks count did not increase (${before.lists} -> ${after.lists})`);
					return `status=OK; emulator lists ${before.lists}->${after.lists}, submissions ${before.submissions}->${after.submissions}`;
				},
			},
			{
				name: 'wrong API key -> Error, no task created',
				credentials: { ...good, data: { ...good.data, apiKey: 'sk-e2e-invalid-key' } },
				assert: ({ result, before, after }) => {
					assert(result?.status === 'Error', `expected status Error, got ${JSON.stringify(result)}`);
					noTask(before, after);
					return `status=Error "${String(result.message).slice(0, 120)}"`;
				},
			},
			...(ctx.extraEmulators?.runware ? runwareCredentialTests(ctx) : []),
			...gatewayCredentialTests(ctx),
		];
	},
};

/** `tsx <script> …args`: the package's own tsx, else npx's. */
function tsxCommand(ctx, script, args) {
	if (!fs.existsSync(script)) throw new Error(`${script} is missing`);
	const local = path.join(ctx.repoRoot, 'node_modules', '.bin', 'tsx');
	return fs.existsSync(local) ? { cmd: local, args: [script, ...args] } : { cmd: 'npx', args: ['--no-install', 'tsx', script, ...args] };
}

function runwareCredential(ctx) {
	return {
		id: 'wanE2ERunwareCrd',
		name: 'Runware (e2e emulator)',
		type: RUNWARE_CRED_TYPE,
		data: { apiKey: RUNWARE_KEY, baseUrl: `${ctx.extraEmulators?.runware?.url ?? 'http://127.0.0.1:9'}/v1` },
	};
}

/** The Runware credential's Test button: the free authentication task, never a task. */
function runwareCredentialTests(ctx) {
	const good = runwareCredential(ctx);
	const noTask = (before, after) => {
		assert(after.submissions === before.submissions && after.tasksCreated === before.tasksCreated, `the Runware credential test created or sent a task (${JSON.stringify({ before, after })})`);
	};
	return [
		{
			name: 'Runware: valid emulator key -> OK by the authentication task, no task created',
			credentials: good,
			emulator: 'runware',
			assert: ({ result, before, after }) => {
				assert(result?.status === 'OK', `expected status OK, got ${JSON.stringify(result)}`);
				noTask(before, after);
				assert(after.authTasks > before.authTasks, `no authentication task arrived (${before.authTasks} -> ${after.authTasks})`);
				return `status=OK; Runware authentication tasks ${before.authTasks}->${after.authTasks}, tasks created ${after.tasksCreated - before.tasksCreated}`;
			},
		},
		{
			name: 'Runware: wrong API key -> Error, no task created',
			credentials: { ...good, data: { ...good.data, apiKey: 'rw-e2e-invalid-key' } },
			emulator: 'runware',
			assert: ({ result, before, after }) => {
				assert(result?.status === 'Error', `expected status Error, got ${JSON.stringify(result)}`);
				noTask(before, after);
				return `status=Error "${String(result.message).slice(0, 120)}"`;
			},
		},
	];
}

/** Generic assertions for one example run; returns the one-line outputs summary. */
async function assertWanRun(out, c, { wanNodes, before, after, rewired, gatewayBefore, gatewayAfter }) {
	const err = executionError(out);
	assert(!err, () => `execution error: ${err?.message ?? brief(err, 500)}${err?.description ? ' — ' + err.description : ''}`);
	const nodeErrs = nodeRunErrors(out);
	assert(!nodeErrs.length, `node errors: ${nodeErrs.join('; ')}`);
	assert(out.status === 'success' || out.finished === true, `status ${out.status}`);
	assert(c.exitCode === 0, `n8n execute exit code ${c.exitCode}`);
	const parts = [];
	for (const node of wanNodes) {
		const items = nodeItems(out, node.name);
		const p = node.parameters || {};
		const op = p.operation ?? 'editImage';
		const runMode = p.runMode ?? 'wait';
		const format = p.outputFormat ?? 'binary';
		if (!items.length && !(out.data?.resultData?.runData ?? {})[node.name]) {
			parts.push(`${node.name}: not executed`);
			continue;
		}
		assert(items.length > 0, `${node.name} (${op}) returned no items`);
		let images = 0;
		const nameRe = fileNameTemplateRe(p.options?.fileNameTemplate);
		const names = [];
		const mimes = new Set();
		let bytes = 0;
		const taskIds = new Set();
		let usage = 0;
		for (const { item } of items) {
			assert(!item.json?.error, () => `${node.name} item error: ${brief(item.json.error)}`);
			for (const h of findKeys(item.json ?? {}, /^task_?id$/i)) if (typeof h.value === 'string' && h.value) taskIds.add(h.value);
			if (findKeys(item.json ?? {}, /^usage$/i).length) usage++;
			for (const [key, bin] of Object.entries(item.binary ?? {})) {
				assert(/^image\//.test(bin.mimeType ?? ''), `${node.name} binary "${key}" has MIME ${bin.mimeType}`);
				const buf = c.images.readBinary(bin, c.instance.userFolder);
				assert(buf, `${node.name} binary "${key}" (${bin.id ?? 'inline'}) not found in the binary store`);
				assert(buf.length > 0, `${node.name} binary "${key}" is empty`);
				const sniffed = c.images.sniffMime(buf);
				assert(sniffed === bin.mimeType, `${node.name} binary "${key}": declared ${bin.mimeType} but the bytes are ${sniffed ?? 'not an image'}`);
				if (nameRe) assert(nameRe.test(bin.fileName ?? ''), `${node.name} binary "${key}": file name ${bin.fileName} does not follow the template ${p.options.fileNameTemplate}`);
				if (typeof bin.bytes === 'number') assert(bin.bytes === buf.length, `${node.name} binary "${key}": bytes=${bin.bytes} but the stored file has ${buf.length}`);
				images++;
				names.push(bin.fileName);
				mimes.add(bin.mimeType);
				bytes += buf.length;
			}
		}
		const producesImages = (IMAGE_OPS.has(op) && runMode === 'wait') || op === 'waitForTask';
		if (producesImages && format === 'binary') assert(images > 0, `${node.name} (${op}, wait, binary) produced no image binaries`);
		if (producesImages && format === 'url') {
			assert(findKeys(items.map((i) => i.item.json), /url/i).some((h) => typeof h.value === 'string' && /^https?:/.test(h.value)), `${node.name} (${op}, url) returned no image URL`);
		}
		if ((IMAGE_OPS.has(op) && runMode === 'submit') || op === 'cancelTask' || op === 'waitForTask') {
			assert(taskIds.size > 0, `${node.name} (${op}) output has no task id`);
		}
		// A gateway answers without usage (seed 002); its images are counted by the gateway emulator below.
		if (producesImages && p.service !== 'gateway') assert(usage > 0, `${node.name} (${op}) output has no usage`);
		if (p.service === 'gateway') {
			assert(gatewayAfter, `${node.name} runs through the gateway, but no gateway emulator is running`);
			const billed = gatewayAfter.billedImages - gatewayBefore.billedImages;
			assert(billed === images, `${node.name}: the gateway billed ${billed} image(s) but the output holds ${images}`);
			assert(gatewayAfter.generationRequests - gatewayBefore.generationRequests === 1, `${node.name}: expected exactly one generation request`);
			assert([...taskIds].every((id) => /^gw-/.test(id)), `${node.name}: task IDs ${[...taskIds].join(',')} are not the node's gateway references`);
			parts.push(`gateway +${gatewayAfter.generationRequests - gatewayBefore.generationRequests} request, +${billed} image(s)`);
		}
		parts.push(
			`${node.name} [${op}${IMAGE_OPS.has(op) ? '/' + runMode : ''}]: ${items.length} item(s)` +
				(images ? `, ${images} image(s) ${[...mimes].join('/')} ${bytes} B` : '') +
				(nameRe ? ` named ${names.slice(0, 4).join(',')}` : '') +
				(taskIds.size ? `, task ${[...taskIds].slice(0, 3).join(',')}${taskIds.size > 3 ? '…' : ''}` : '') +
				(usage ? `, usage x${usage}` : ''),
		);
	}
	const b = sumCounters(before);
	const a = sumCounters(after);
	parts.push(`emulator +${a.submissions - b.submissions} async/+${a.syncCalls - b.syncCalls} sync`);
	if (!rewired) parts.push('(no credential reference rewritten)');
	return parts.join('; ');
}

/**
 * `banner-{index}.{ext}` (or the older `banner-{{index}}.{{ext}}`) → /^banner-\d+\.(png|jpe?g|webp|bmp)$/
 * (other tokens match anything). Templates that are n8n expressions (`=…`) are not checked.
 */
function fileNameTemplateRe(template) {
	if (typeof template !== 'string' || template.startsWith('=')) return null;
	const token = /(\{\{\s*[A-Za-z]+\s*\}\}|\{[A-Za-z]+\})/;
	if (!token.test(template)) return null;
	const re = template
		.split(token)
		.map((part) => {
			const m = part.match(/^\{\{\s*([A-Za-z]+)\s*\}\}$/) ?? part.match(/^\{([A-Za-z]+)\}$/);
			if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
			if (m[1] === 'index') return '\\d+';
			if (m[1] === 'ext') return '(png|jpe?g|webp|bmp)';
			return '.+';
		})
		.join('');
	return new RegExp(`^${re}$`);
}

/** The gateway credential imported into n8n (seed-002 settings, the gateway emulator's first key). */
function gatewayCredential(ctx) {
	return {
		id: 'wanE2EGatewayCrd',
		name: 'Wan Gateway (e2e emulator)',
		type: GATEWAY_CRED_TYPE,
		data: {
			baseUrl: `${ctx.extraEmulators?.gateway?.url ?? 'http://127.0.0.1:9'}/v1`,
			apiKey: GATEWAY_KEY,
			imageField: 'image',
			sizeStyle: 'WxH',
			responseFormat: 'url',
			requestTimeoutSeconds: 300,
			modelIdImage: 'wan2.7-image',
			modelIdImagePro: 'wan2.7-image-pro',
			path: '/images/generations',
		},
	};
}

/** The gateway credential's Test button: GET {base}/models; a 404 reads "cannot verify", never "wrong key". */
function gatewayCredentialTests(ctx) {
	const good = gatewayCredential(ctx);
	const noGeneration = (before, after) =>
		assert(after.generationRequests === before.generationRequests, 'the gateway credential test sent a generation request');
	return [
		{
			name: 'gateway: valid key -> OK, models listed, nothing generated',
			emulator: 'gateway',
			credentials: good,
			assert: ({ result, before, after }) => {
				assert(result?.status === 'OK', `expected status OK, got ${JSON.stringify(result)}`);
				noGeneration(before, after);
				assert(after.modelsCalls > before.modelsCalls, 'GET /models was not called');
				return `status=OK; gateway modelsCalls ${before.modelsCalls}->${after.modelsCalls}`;
			},
		},
		{
			name: 'gateway: wrong key -> Error naming the key',
			emulator: 'gateway',
			credentials: { ...good, data: { ...good.data, apiKey: 'sk-e2e-wrong-gateway-key' } },
			assert: ({ result, before, after }) => {
				assert(result?.status === 'Error', `expected status Error, got ${JSON.stringify(result)}`);
				assert(/refused the API key/.test(result.message ?? ''), `unexpected message: ${result.message}`);
				noGeneration(before, after);
				return `status=Error "${String(result.message).slice(0, 100)}"`;
			},
		},
		{
			name: 'gateway: no /models route (404) -> "cannot verify", not "wrong key"',
			emulator: 'gateway',
			credentials: { ...good, data: { ...good.data, baseUrl: `${ctx.extraEmulators?.gateway?.url}/no-models-here` } },
			assert: ({ result, before, after }) => {
				assert(result?.status === 'Error', `expected status Error, got ${JSON.stringify(result)}`);
				assert(/Cannot verify/.test(result.message ?? '') && !/refused the API key/.test(result.message ?? ''), `unexpected message: ${result.message}`);
				noGeneration(before, after);
				return `status=Error "${String(result.message).slice(0, 100)}"`;
			},
		},
	];
}
