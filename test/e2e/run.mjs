#!/usr/bin/env node
// End-to-end harness: runs the community node pack inside REAL n8n (regular mode + queue mode).
// Plain ESM so it runs on the machine's Node 20; n8n itself runs on a cached Node 24. See README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureInstalled, defaultCacheDir, N8N_VERSION, NODE_VERSION } from './lib/install.mjs';
import { ProcessRegistry } from './lib/procs.mjs';
import { N8nInstance, RestClient } from './lib/n8n.mjs';
import { startPostgres, startRedis } from './lib/services.mjs';
import { Results } from './lib/results.mjs';
import { startBrowser } from './lib/browser.mjs';
import { startChatEmulator } from '../chat-emulator/server.mjs';
import { freePort, log, fmtSecs, sleep, rmrf, tailFile } from './lib/util.mjs';
import * as images from './lib/images.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const PHASES_ALL = ['cli', 'webhook', 'credtest', 'agent', 'browser', 'queue'];
const phases = new Set(
	(process.env.E2E_PHASES || PHASES_ALL.join(','))
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean),
);
for (const p of phases) if (!PHASES_ALL.includes(p)) throw new Error(`E2E_PHASES: unknown phase "${p}" (known: ${PHASES_ALL.join(', ')})`);

const registry = new ProcessRegistry();
const results = new Results();
const timings = {};
let tmpRoot = null;
let finishing = false;

async function finish(code) {
	if (finishing) return;
	finishing = true;
	log('stopping every process the harness started ...');
	const t = Date.now();
	await registry.stopAll();
	timings.shutdown = Date.now() - t;
	const keep = process.env.E2E_KEEP_TMP === '1' || results.failed > 0 || code !== 0;
	if (tmpRoot) {
		if (keep) log(`temp folder kept (logs, user folders): ${tmpRoot}`);
		else rmrf(tmpRoot);
	}
	log(`timings: ${Object.entries(timings).map(([k, v]) => `${k}=${fmtSecs(v)}`).join(' ')}`);
	results.printSummary();
	process.exit(code !== 0 ? code : results.failed > 0 ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		log(`received ${sig}`);
		results.fail('run interrupted', `received ${sig}`);
		results.abort(`run interrupted (${sig})`);
		finish(130);
	});
}
process.on('exit', () => registry.killAllSync());
process.on('unhandledRejection', (e) => {
	results.fail('harness error (unhandled rejection)', e?.stack || String(e));
	finish(1);
});

// Global watchdog: a hung n8n must not eat CI's budget. Fails the run and cleans up.
const timeoutMin = Number(process.env.E2E_TIMEOUT_MIN || 45);
setTimeout(() => {
	results.fail('run timed out', `E2E_TIMEOUT_MIN=${timeoutMin} reached`);
	results.abort('run timed out');
	finish(1);
}, timeoutMin * 60_000).unref();

async function timed(name, fn) {
	const t = Date.now();
	try {
		return await fn();
	} finally {
		timings[name] = (timings[name] || 0) + (Date.now() - t);
	}
}

async function main() {
	const tTotal = Date.now();
	const suitePath = process.env.E2E_SUITE ? path.resolve(process.env.E2E_SUITE) : path.join(here, 'suite-wan.mjs');
	const suite = (await import(pathToFileURL(suitePath).href)).default;
	log(`suite: ${suite.name} (${path.relative(repoRoot, suitePath) || suitePath}); phases: ${[...phases].join(', ')}`);

	tmpRoot = process.env.E2E_TMP_DIR ? path.resolve(process.env.E2E_TMP_DIR) : fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-wan-e2e-'));
	fs.mkdirSync(tmpRoot, { recursive: true });
	fs.chmodSync(tmpRoot, 0o711); // the postgres user must be able to traverse into its data dir
	const logDir = path.join(tmpRoot, 'logs');
	fs.mkdirSync(logDir, { recursive: true });
	log(`temp folder: ${tmpRoot}`);

	// 1. cached installs ----------------------------------------------------------------------------
	const cacheDir = defaultCacheDir();
	const install = await timed('install', () =>
		ensureInstalled({ cacheDir, withQueueDeps: phases.has('queue'), withBrowser: phases.has('browser'), registry }),
	);
	log(`n8n ${N8N_VERSION} on Node ${NODE_VERSION} from ${cacheDir}${install.n8n.cached && install.toolchain.cached ? ' (cached)' : ''}`);

	const ctx = {
		repoRoot,
		tmpRoot,
		logDir,
		install,
		registry,
		results,
		images,
		log,
		sleep,
		encryptionKey: crypto.randomBytes(24).toString('hex'),
	};

	// 2. build + pack --------------------------------------------------------------------------------
	let pkg;
	await results.check('package: build + npm pack', () =>
		timed('package', async () => {
			pkg = await suite.preparePackage(ctx);
			return pkg.summary ?? `${pkg.name} -> ${path.basename(pkg.tgz)}`;
		}),
	);
	if (!pkg) return;
	ctx.pkg = pkg; // { tgz, name }

	// 3. emulator(s) ---------------------------------------------------------------------------------
	/** Spawns one emulator process and waits for its "listening on" line; the handle the suite and checks use. */
	const startEmulator = async (name, spec, port) => {
		const svc = registry.spawnService(name, spec.cmd, spec.args, {
			cwd: spec.cwd ?? repoRoot,
			env: spec.env ?? process.env,
			logFile: path.join(logDir, `${name}.log`),
		});
		const m = await svc.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, { timeoutMs: 120_000 });
		return {
			svc,
			port,
			url: m[1],
			counters: async () => {
				const r = await fetch(`${m[1]}/__emulator/counters`, { signal: AbortSignal.timeout(10_000) });
				if (!r.ok) throw new Error(`GET /__emulator/counters: HTTP ${r.status}`);
				return r.json();
			},
			control: async (method, p, body) => {
				const r = await fetch(`${m[1]}/__emulator/${p.replace(/^\//, '')}`, {
					method,
					headers: body === undefined ? {} : { 'content-type': 'application/json' },
					body: body === undefined ? undefined : JSON.stringify(body),
					signal: AbortSignal.timeout(10_000),
				});
				const text = await r.text();
				try {
					return { status: r.status, json: JSON.parse(text) };
				} catch {
					return { status: r.status, text };
				}
			},
		};
	};
	const emuOk = await results.check('emulator: start', () => timed('emulator', async () => {
		const port = await freePort();
		ctx.emulator = await startEmulator('emulator', suite.emulatorCommand(ctx, port), port);
		return `${ctx.emulator.url} (pid ${ctx.emulator.svc.pid})`;
	}));
	if (!emuOk) return;
	// Other services' emulators (e.g. an OpenAI-style gateway), by name: ctx.extraEmulators[name].
	ctx.extraEmulators = {};
	for (const extra of suite.extraEmulators?.(ctx) ?? []) {
		const ok = await results.check(`emulator: start ${extra.name}`, () => timed('emulator', async () => {
			const port = await freePort();
			const handle = await startEmulator(extra.name, extra.command(ctx, port), port);
			ctx.extraEmulators[extra.name] = handle;
			return `${handle.url} (pid ${handle.svc.pid})`;
		}));
		if (!ok) return;
	}

	const cred = suite.credential(ctx);
	ctx.cred = cred;

	// 4/5/7. regular mode ----------------------------------------------------------------------------
	if (['cli', 'webhook', 'credtest', 'agent', 'browser'].some((p) => phases.has(p))) {
		const inst = new N8nInstance({
			install,
			registry,
			name: 'regular',
			dir: path.join(tmpRoot, 'regular'),
			encryptionKey: ctx.encryptionKey,
			port: await freePort(),
			extraEnv: { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem', DB_TYPE: 'sqlite', EXECUTIONS_MODE: 'regular' },
		});
		inst.installPackage(pkg.tgz, pkg.name);

		const imported = await results.check('regular: import credential', () =>
			timed('regular-import', async () => {
				// The suite's main credential, then one per other service it runs (suite.extraCredentials).
				const all = [cred, ...(suite.extraCredentials?.(ctx) ?? [])];
				for (const one of all) await inst.importCredential(one);
				return all.map((one) => `${one.type} "${one.name}" id=${one.id}`).join(', ');
			}),
		);
		if (imported === undefined) throw new Error('credential import failed; nothing else can run');

		if (phases.has('cli')) await cliPhase(ctx, suite, inst);
		if (['webhook', 'credtest', 'agent', 'browser'].some((p) => phases.has(p))) await serverPhase(ctx, suite, inst);
	}

	// 6. queue mode ----------------------------------------------------------------------------------
	if (phases.has('queue')) await timed('queue', () => queuePhase(ctx, suite));

	timings.total = Date.now() - tTotal;
}

async function cliPhase(ctx, suite, inst) {
	const specs = await suite.cliWorkflows(ctx);
	if (!specs.length) {
		results.fail('cli: example workflows', 'the suite found no workflows to run');
		return;
	}
	// Import all at once (one CLI start instead of N): --separate reads every *.json in a folder.
	const wfDir = path.join(inst.dir, 'cli-workflows');
	fs.mkdirSync(wfDir, { recursive: true });
	for (const s of specs) fs.writeFileSync(path.join(wfDir, `${s.id}.json`), JSON.stringify(s.workflow, null, 2));
	const ok = await results.check(`cli: import ${specs.length} workflow(s)`, () =>
		timed('cli-import', async () => {
			await inst.cli(['import:workflow', '--separate', `--input=${wfDir}`]);
			return specs.map((s) => `${s.id}=${s.name}`).join(', ');
		}),
	);
	if (ok === undefined) return;
	ctx.importedWorkflows = specs;
	for (const s of specs) {
		if (s.importOnly) {
			// Not a check of its own (nothing here could fail it): its node types are asserted by
			// "regular: n8n knows the package's node types and every type the workflows use".
			log(`INFO  cli: ${s.name}: import only — ${s.importOnly}`);
			continue;
		}
		await results.check(`cli: ${s.name}`, () =>
			timed('cli-execute', async () => {
				if (s.before) await s.before(ctx);
				const r = await inst.execute(s.id, { timeoutMs: s.timeoutMs ?? 5 * 60_000 });
				if (!r.output) {
					const text = (r.res.stdout + '\n' + r.res.stderr).trim();
					const cause = text.split('\n').find((l) => /^\w*Error: /.test(l.trim())) ?? '';
					throw new Error(
						`n8n execute gave no JSON (exit ${r.code}, ${fmtSecs(r.ms)})${cause ? ': ' + cause.trim() : ''}; log ${r.res.logFile}\n${text.split('\n').slice(-25).join('\n')}`,
					);
				}
				const summary = await s.assert(r.output, { ...ctx, instance: inst, exitCode: r.code });
				return `status=${r.output.status ?? '?'} exit=${r.code} ${fmtSecs(r.ms)} | ${summary}`;
			}),
		);
	}
}

async function serverPhase(ctx, suite, inst) {
	let hook = null;
	if (phases.has('webhook')) {
		hook = suite.webhookWorkflow(ctx, { mode: 'regular' });
		const ok = await results.check('webhook (regular): import + publish workflow', () =>
			timed('webhook-setup', async () => {
				await inst.importWorkflow(hook.workflow);
				await inst.publishWorkflow(hook.id);
				return `${hook.id}=${hook.workflow.name} POST /webhook/${hook.path}`;
			}),
		);
		if (ok === undefined) hook = null;
	}
	const agent = phases.has('agent') ? await timed('agent', () => agentSetup(ctx, suite, inst)) : null;
	let svc;
	const started = await results.check('regular: n8n start', () =>
		timed('regular-start', async () => {
			svc = await inst.start();
			const loaded = svc.log().match(/Loaded (?:all )?(?:community )?packages?[^\n]*/i);
			return `ready in ${fmtSecs(svc.readyMs)} on ${inst.baseUrl}${loaded ? ' | ' + loaded[0] : ''}`;
		}),
	);
	if (!started) return;
	try {
		if (hook) {
			await results.check('webhook (regular, binary mode filesystem): edit image round trip', () =>
				timed('webhook-call', () => callWebhook(ctx, inst, hook)),
			);
		}
		if (phases.has('credtest')) await credentialTestPhase(ctx, suite, inst);
		if (agent) await timed('agent', () => agentPhase(ctx, suite, inst, agent));
		if (phases.has('browser')) await timed('browser', () => browserPhase(ctx, suite, inst));
	} finally {
		await inst.stopAll();
	}
}

async function callWebhook(ctx, inst, hook, { label = '' } = {}) {
	if (!hook.registered) hook.registered = inst.waitForWebhook(hook.path, 'POST');
	const waitedMs = await hook.registered;
	if (waitedMs > 0 && !hook.reportedWait) {
		hook.reportedWait = true;
		log(`webhook /webhook/${hook.path} registered ${fmtSecs(waitedMs)} after n8n was ready`);
	}
	const req = await hook.request(ctx);
	const t = Date.now();
	const r = await fetch(`${inst.baseUrl}/webhook/${hook.path}`, {
		method: 'POST',
		headers: req.headers,
		body: req.body,
		signal: AbortSignal.timeout(hook.timeoutMs ?? 180_000),
	});
	const body = Buffer.from(await r.arrayBuffer());
	const res = { status: r.status, headers: Object.fromEntries(r.headers), body, ms: Date.now() - t };
	return `${label}${await hook.assert(res, { ...ctx, instance: inst }, req)} (${res.ms} ms)`;
}

/**
 * Before n8n starts: the scripted chat model (in this process), its OpenAI credential and the suite's
 * agent workflows, imported and published (a chat trigger's webhook exists only once published).
 */
async function agentSetup(ctx, suite, inst) {
	if (!suite.agentWorkflows) {
		results.fail('agent: workflows', `suite ${suite.name} has no agentWorkflows`);
		return null;
	}
	let setup = null;
	await results.check('agent: chat emulator + OpenAI credential + agent workflow(s) imported and published', async () => {
		const chat = await startChatEmulator();
		registry.onCleanup('chat emulator', () => chat.close());
		ctx.chat = chat;
		const { credential, workflows } = suite.agentWorkflows(ctx, chat.baseUrl);
		await inst.importCredential(credential);
		for (const wf of Object.values(workflows)) {
			await inst.importWorkflow(wf.workflow);
			await inst.publishWorkflow(wf.id);
		}
		setup = { chat, workflows };
		return `chat emulator ${chat.baseUrl}; ${Object.values(workflows).map((w) => `${w.id} POST /webhook/${w.webhookPath}`).join(', ')}`;
	});
	return setup;
}

async function agentPhase(ctx, suite, inst, { chat, workflows }) {
	try {
		for (const wf of Object.values(workflows)) await inst.waitForWebhook(wf.webhookPath, 'POST');
		let n = 0;
		for (const tc of suite.agentCases(ctx)) {
			await results.check(`agent: ${tc.name}`, () =>
				suite.runAgentCase(tc, { baseUrl: inst.baseUrl, chat, dashScope: ctx.emulator, workflows, sessionId: `e2e-agent-${++n}` }),
			);
		}
	} finally {
		await chat.close();
	}
}

const OWNER = { email: 'e2e-owner@example.com', password: 'E2e-Passw0rd!x' };

/** The instance owner (set up once per n8n instance through POST /rest/owner/setup) and a logged-in REST client. */
async function ownerRest(label, inst) {
	if (inst.ownerRest) return inst.ownerRest;
	const rest = new RestClient(inst.baseUrl);
	const loggedIn = await results.check(`${label}: owner setup + login (REST)`, async () => {
		const me = await rest.ownerLogin(OWNER);
		return `owner ${me?.data?.email ?? OWNER.email}`;
	});
	if (!loggedIn) return null;
	inst.ownerRest = rest;
	return rest;
}

async function credentialTestPhase(ctx, suite, inst) {
	const rest = await timed('credtest', () => ownerRest('credential test', inst));
	if (!rest) return;
	await results.check('regular: n8n knows the package\'s node types and every type the workflows use', () =>
		timed('credtest', async () => {
			// (GET /rest/community-packages stays empty: it lists the installed_packages table, which only UI/API
			// installs fill; n8n still loads every package found in ~/.n8n/nodes/node_modules at startup.)
			const nt = await rest.req('GET', '/types/nodes.json');
			if (nt.status !== 200 || !Array.isArray(nt.json)) throw new Error(`GET /types/nodes.json: HTTP ${nt.status}`);
			const known = new Set(nt.json.map((d) => d.name));
			const wanted = new Set([...(suite.requiredNodeTypes?.(ctx) ?? []), ...(ctx.importedWorkflows ?? []).flatMap((w) => w.nodeTypes ?? [])]);
			const missing = [...wanted].filter((t) => !known.has(t));
			if (missing.length) throw new Error(`node types unknown to n8n: ${missing.join(', ')}`);
			const own = [...known].filter((t) => t.startsWith(ctx.pkg.name + '.'));
			if (!own.length) throw new Error(`GET /types/nodes.json has no ${ctx.pkg.name}.* type`);
			return `package types ${own.join(', ')}; all ${wanted.size} node types used by the workflows are known`;
		}),
	);
	for (const tc of suite.credentialTests(ctx)) {
		await results.check(`credential test: ${tc.name}`, () =>
			timed('credtest', async () => {
				// A test of another service's credential reads that service's emulator (tc.emulator names it).
				const emulator = tc.emulator ? ctx.extraEmulators[tc.emulator] : ctx.emulator;
				const before = await emulator.counters();
				const r = await rest.req('POST', '/rest/credentials/test', { credentials: tc.credentials });
				const after = await emulator.counters();
				if (r.status !== 200) throw new Error(`POST /rest/credentials/test: HTTP ${r.status} ${r.text.slice(0, 400)}`);
				const data = r.json?.data ?? r.json;
				return tc.assert({ result: data, before, after });
			}),
		);
	}
}

/**
 * The suite's browser checks in Chromium against the running editor: the owner signs in through the
 * sign-in page, then each check drives the editor. Screenshots go to <tmp>/browser/screenshots; with
 * E2E_PICTURES_DIR the checks' README pictures are also written there (`npm run screenshots`).
 */
async function browserPhase(ctx, suite, inst) {
	if (!suite.browserChecks) {
		results.fail('browser: checks', `suite ${suite.name} has no browserChecks`);
		return;
	}
	const rest = await ownerRest('browser', inst);
	if (!rest) return;
	let browser;
	const up = await results.check('browser: Chromium starts, owner signs in through the sign-in page', async () => {
		browser = await startBrowser({
			dir: path.join(ctx.tmpRoot, 'browser'),
			baseUrl: inst.baseUrl,
			registry,
			picturesDir: process.env.E2E_PICTURES_DIR ? path.resolve(repoRoot, process.env.E2E_PICTURES_DIR) : null,
		});
		const t = Date.now();
		await browser.signIn(OWNER);
		return `${browser.version}; signed in as ${OWNER.email} in ${fmtSecs(Date.now() - t)}`;
	});
	try {
		if (!up) return;
		for (const check of suite.browserChecks(ctx)) {
			await results.check(`browser: ${check.name}`, () => check.run({ ...ctx, instance: inst, rest, browser }));
		}
		// n8n's editor asks a few outside hosts on its own (nothing the package does): they are aborted.
		if (browser.blocked.length) log(`INFO  browser: ${browser.blocked.length} request(s) to other hosts aborted: ${[...new Set(browser.blocked.map((u) => new URL(u).host))].join(', ')}`);
	} finally {
		if (browser) {
			await browser.close();
			log(`browser screenshots (${browser.shots.length}, kept with the temp folder): ${browser.shotsDir}${browser.pictures.length ? `; README pictures: ${browser.pictures.map((p) => path.relative(repoRoot, p)).join(', ')}` : ''}`);
		}
	}
}

async function queuePhase(ctx, suite) {
	const dir = path.join(ctx.tmpRoot, 'queue');
	fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
	const qlogs = path.join(dir, 'logs');
	let pg, redis;
	const svcOk = await results.check('queue: start PostgreSQL + Redis (loopback)', async () => {
		[pg, redis] = await Promise.all([
			startPostgres({ registry, binDir: ctx.install.postgresBinDir, dir: path.join(dir, 'pg'), logDir: qlogs }),
			startRedis({ registry, redisServer: ctx.install.redisServer, dir: path.join(dir, 'redis'), logDir: qlogs }),
		]);
		return `postgres 127.0.0.1:${pg.port} (pid ${pg.svc.pid}), redis 127.0.0.1:${redis.port} (pid ${redis.svc.pid})`;
	});
	if (!svcOk) return;
	const inst = new N8nInstance({
		install: ctx.install,
		registry,
		name: 'queue',
		dir,
		encryptionKey: ctx.encryptionKey,
		port: await freePort(),
		extraEnv: {
			...pg.env,
			...redis.env,
			EXECUTIONS_MODE: 'queue',
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			QUEUE_HEALTH_CHECK_ACTIVE: 'false',
		},
	});
	inst.installPackage(ctx.pkg.tgz, ctx.pkg.name);
	const hook = suite.webhookWorkflow(ctx, { mode: 'queue' });
	const setup = await results.check('queue: import credential + workflow, publish', async () => {
		await inst.importCredential(ctx.cred);
		await inst.importWorkflow(hook.workflow);
		await inst.publishWorkflow(hook.id);
		return `${hook.id}=${hook.workflow.name}`;
	});
	if (!setup) return;
	let main, workers;
	const up = await results.check('queue: n8n main + 2 workers up', async () => {
		// The imports above already ran the DB migrations, so main and workers can boot side by side.
		[main, ...workers] = await Promise.all([
			inst.start({ label: 'main' }),
			...[1, 2].map((i) =>
				inst.startProcess(`worker${i}`, ['worker', '--concurrency=2'], {
					readyRe: /n8n worker is now ready/,
					timeoutMs: 180_000,
				}),
			),
		]);
		return `main pid ${main.pid} ready in ${fmtSecs(main.readyMs)}; workers pids ${workers.map((w) => w.pid).join(', ')}`;
	});
	if (up) {
		const calls = Number(process.env.E2E_QUEUE_CALLS || 2);
		await results.check(`queue: webhook edit round trip x${calls} (binary mode database)`, async () => {
			const outs = await Promise.all(Array.from({ length: calls }, (_, i) => callWebhook(ctx, inst, hook, { label: `#${i + 1} ` })));
			return outs.join('; ');
		});
		await results.check('queue: executions ran on workers (not main), binaries stored in PostgreSQL', async () => {
			await sleep(500);
			const started = workers.map((w) => [...w.log().matchAll(/Worker started execution (\d+)/g)].map((m) => m[1]));
			const finished = workers.map((w) => [...w.log().matchAll(/Worker finished execution (\d+)/g)].map((m) => m[1]));
			const total = started.flat().length;
			if (total < calls) {
				throw new Error(
					`expected ${calls} executions in worker logs, found ${total}\n--- worker1 ---\n${tailFile(workers[0].logFile, 15)}\n--- worker2 ---\n${tailFile(workers[1].logFile, 15)}`,
				);
			}
			if (/Worker started execution/.test(main.log())) throw new Error('main process log claims it ran an execution as a worker');
			const rows = pg.query(`SELECT id, status, mode FROM execution_entity WHERE "workflowId" = '${hook.id}' ORDER BY id`).trim();
			const statuses = rows ? rows.split('\n').map((l) => l.split('\t')) : [];
			const bad = statuses.filter(([, st]) => st !== 'success');
			if (statuses.length < calls || bad.length) throw new Error(`execution_entity rows: ${rows || '(none)'}`);
			// Binary mode `database`: the input and the edited images live in PostgreSQL's binary_data table.
			const bin = pg.query(`SELECT "mimeType", count(*), sum("fileSize") FROM binary_data GROUP BY 1 ORDER BY 1`).trim();
			const binRows = bin ? bin.split('\n').map((l) => l.split('\t')) : [];
			const png = binRows.find(([m]) => m === 'image/png');
			if (!png || Number(png[1]) < calls * 2) throw new Error(`binary_data rows (mode database): ${bin || '(none)'}; expected >= ${calls * 2} image/png (input + edited per call)`);
			return `worker1 ran [${started[0].join(',')}] (finished [${finished[0].join(',')}]), worker2 ran [${started[1].join(',')}] (finished [${finished[1].join(',')}]); DB: ${statuses.map(([id, st, mode]) => `#${id} ${st}/${mode}`).join(', ')}; binary_data: ${binRows.map(([m, n, b]) => `${n}x ${m} ${b} B`).join(', ')}`;
		});
	}
	await inst.stopAll();
	await redis.stop();
	await pg.stop();
}

main()
	.then(() => finish(0))
	.catch((e) => {
		results.fail('harness error', e?.stack || String(e));
		finish(1);
	});
