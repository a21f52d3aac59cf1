// Driving a real n8n (CLI commands, `n8n start`, `n8n worker`, REST) from the harness.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort, run, sleep, tailFile } from './util.mjs';
import { node24Env } from './install.mjs';

/**
 * Base environment for every n8n process of one "instance" (one N8N_USER_FOLDER / database).
 * `extra` wins. Each process also needs its own task-broker port (see `processEnv`).
 */
export function instanceEnv(install, { userFolder, encryptionKey, port, extra = {} }) {
	// No npm_config_* from the npm that started the harness; Node 24 first on PATH, its headers as nodedir.
	const env = node24Env(install.toolchain, {
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: encryptionKey,
		N8N_HOST: '127.0.0.1',
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_PORT: String(port),
		N8N_PROTOCOL: 'http',
		N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
		N8N_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
		N8N_LOG_LEVEL: process.env.E2E_N8N_LOG_LEVEL || 'info',
		N8N_LOG_OUTPUT: 'console',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		// Nothing on this machine may reach the Internet; keep n8n from trying.
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		EXTERNAL_FRONTEND_HOOKS_URLS: '',
		N8N_AI_ENABLED: 'false',
		GENERIC_TIMEZONE: 'UTC',
		TZ: 'UTC',
		NODE_ENV: 'production',
		...extra,
	});
	return env;
}

/** Every n8n process (CLI command, main, worker) gets its own task-broker port: they may run side by side. */
export async function processEnv(env, extra = {}) {
	return { ...env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...extra };
}

export class N8nInstance {
	/**
	 * @param {object} o
	 * @param o.install  result of ensureInstalled()
	 * @param o.name     label ("regular", "queue")
	 * @param o.dir      instance work dir (user folder + logs inside)
	 */
	constructor({ install, registry, name, dir, encryptionKey, port, extraEnv }) {
		this.install = install;
		this.registry = registry;
		this.name = name;
		this.dir = dir;
		this.userFolder = path.join(dir, 'home');
		this.logDir = path.join(dir, 'logs');
		this.port = port;
		fs.mkdirSync(this.userFolder, { recursive: true });
		fs.mkdirSync(this.logDir, { recursive: true });
		// n8n writes scratch files (webhook uploads, data-table uploads) to os.tmpdir(): keep them in the run's folder.
		const tmp = path.join(dir, 'tmp');
		fs.mkdirSync(tmp, { recursive: true });
		this.env = instanceEnv(install, { userFolder: this.userFolder, encryptionKey, port, extra: { TMPDIR: tmp, ...extraEnv } });
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.services = [];
		this.cliCount = 0;
	}

	/** Install a community package tarball the way the UI does: ~/.n8n/nodes/node_modules/<pkg>. */
	installPackage(tgz, pkgName) {
		const nodesDir = path.join(this.userFolder, '.n8n', 'nodes');
		const dest = path.join(nodesDir, 'node_modules', pkgName);
		fs.mkdirSync(dest, { recursive: true });
		execFileSync('tar', ['xzf', tgz, '-C', dest, '--strip-components=1']);
		// n8n's package manager keeps a package.json in ~/.n8n/nodes listing installed packs.
		const pj = path.join(nodesDir, 'package.json');
		const version = JSON.parse(fs.readFileSync(path.join(dest, 'package.json'), 'utf8')).version;
		const cur = fs.existsSync(pj) ? JSON.parse(fs.readFileSync(pj, 'utf8')) : { name: 'installed-nodes', private: true, dependencies: {} };
		cur.dependencies = { ...(cur.dependencies || {}), [pkgName]: version };
		fs.writeFileSync(pj, JSON.stringify(cur, null, 2) + '\n');
		return dest;
	}

	/** Run one n8n CLI command to completion; output captured (and copied into logs/). */
	async cli(args, { allowFail = false, timeoutMs = 5 * 60_000, extraEnv } = {}) {
		const n = ++this.cliCount;
		const env = await processEnv(this.env, extraEnv);
		const res = await run(this.install.toolchain.node, [this.install.n8n.bin, ...args], {
			cwd: this.dir,
			env,
			allowFail: true,
			timeoutMs,
			registry: this.registry,
			label: `n8n ${args[0]} (${this.name})`,
		});
		const logFile = path.join(this.logDir, `cli-${String(n).padStart(2, '0')}-${args[0].replace(/[^a-z0-9:-]/gi, '_')}.log`);
		fs.writeFileSync(logFile, `$ n8n ${args.join(' ')}\n(exit ${res.code}, ${res.ms} ms)\n--- stdout ---\n${res.stdout}\n--- stderr ---\n${res.stderr}\n`);
		res.logFile = logFile;
		if (res.code !== 0 && !allowFail) {
			const tail = (res.stdout + '\n' + res.stderr).trim().split('\n').slice(-30).join('\n');
			throw new Error(`n8n ${args.join(' ')} failed (exit ${res.code}${res.signal ? ', ' + res.signal : ''}; log ${logFile}):\n${tail}`);
		}
		return res;
	}

	async importWorkflow(wf) {
		const file = path.join(this.dir, `workflow-${wf.id}.json`);
		fs.writeFileSync(file, JSON.stringify(wf, null, 2));
		await this.cli(['import:workflow', `--input=${file}`]);
	}

	async importCredential(cred) {
		const file = path.join(this.dir, `credential-${cred.id}.json`);
		fs.writeFileSync(file, JSON.stringify([cred], null, 2));
		await this.cli(['import:credentials', `--input=${file}`]);
	}

	async publishWorkflow(id) {
		await this.cli(['publish:workflow', `--id=${id}`]);
	}

	/**
	 * `n8n execute --id=<id> --rawOutput`: returns { ok, code, output (parsed JSON or null), ms, res }.
	 * --rawOutput still logs other lines first: the JSON starts at the first line beginning with `{`.
	 */
	async execute(id, { timeoutMs = 5 * 60_000 } = {}) {
		const res = await this.cli(['execute', `--id=${id}`, '--rawOutput'], { allowFail: true, timeoutMs });
		const output = parseRawOutput(res.stdout);
		return { ok: res.code === 0 && output !== null, code: res.code, output, ms: res.ms, res };
	}

	/** Start a long-running n8n command (`start`, `worker`) in its own process group. */
	async startProcess(label, args, { extraEnv, readyRe, timeoutMs = 180_000 } = {}) {
		const env = await processEnv(this.env, extraEnv);
		const logFile = path.join(this.logDir, `${label}.log`);
		const svc = this.registry.spawnService(`n8n ${label} (${this.name})`, this.install.toolchain.node, [this.install.n8n.bin, ...args], {
			cwd: this.dir,
			env,
			logFile,
		});
		this.services.push(svc);
		if (readyRe) await svc.waitFor(readyRe, { timeoutMs });
		return svc;
	}

	/** `n8n start`; resolves once the HTTP server answers /healthz/readiness. */
	async start({ extraEnv, label = 'main', timeoutMs = 180_000 } = {}) {
		const started = Date.now();
		const svc = await this.startProcess(label, ['start'], { extraEnv });
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			if (svc.exitInfo) {
				throw new Error(
					`n8n ${label} (${this.name}) exited (code ${svc.exitInfo.code}, signal ${svc.exitInfo.signal}) before it was ready\n--- ${svc.logFile} (tail) ---\n${tailFile(svc.logFile, 30)}`,
				);
			}
			try {
				const r = await fetch(`${this.baseUrl}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
				if (r.ok && /Editor is now accessible via/.test(svc.log())) break;
			} catch {}
			if (Date.now() > deadline) throw new Error(`n8n start (${this.name}) not ready after ${timeoutMs} ms; log ${svc.logFile}`);
			await sleep(300);
		}
		svc.readyMs = Date.now() - started;
		return svc;
	}

	/**
	 * Wait until a production webhook is registered. n8n 2.41 activates published workflows
	 * asynchronously (N8N_USE_WORKFLOW_PUBLICATION_SERVICE, default true: an outbox consumer runs after
	 * "Editor is now accessible"), so an early call gets 404 "webhook is not registered". A CORS
	 * preflight (OPTIONS + Origin + Access-Control-Request-Method) answers 204 once the webhook exists
	 * and 404 before, without running the workflow.
	 */
	async waitForWebhook(hookPath, method = 'POST', { timeoutMs = 90_000 } = {}) {
		const started = Date.now();
		let last = '';
		while (Date.now() - started < timeoutMs) {
			try {
				const r = await fetch(`${this.baseUrl}/webhook/${hookPath}`, {
					method: 'OPTIONS',
					headers: { origin: 'http://127.0.0.1', 'access-control-request-method': method },
					signal: AbortSignal.timeout(5000),
				});
				const allow = r.headers.get('access-control-allow-methods') || '';
				if (r.status < 300 && allow.split(/,\s*/).includes(method)) return Date.now() - started;
				last = `HTTP ${r.status} allow=${allow}`;
			} catch (e) {
				last = e.message;
			}
			await sleep(250);
		}
		throw new Error(`webhook ${method} /webhook/${hookPath} not registered after ${timeoutMs} ms (${last})`);
	}

	async stopAll() {
		for (const svc of this.services.splice(0).reverse()) await svc.stop();
	}
}

export function parseRawOutput(stdout) {
	const lines = stdout.split('\n');
	const i = lines.findIndex((l) => l.startsWith('{'));
	if (i < 0) return null;
	const text = lines.slice(i).join('\n').trim();
	try {
		return JSON.parse(text);
	} catch {
		// trailing log lines after the JSON: cut at the last closing brace line
		for (let j = lines.length; j > i; j--) {
			try {
				return JSON.parse(lines.slice(i, j).join('\n'));
			} catch {}
		}
		return null;
	}
}

/** Minimal REST client with the n8n-auth cookie + browser-id header the UI sends. */
export class RestClient {
	constructor(baseUrl) {
		this.baseUrl = baseUrl;
		this.cookie = '';
		this.browserId = 'e2e-harness-browser';
	}

	async req(method, p, body) {
		const headers = { 'browser-id': this.browserId, accept: 'application/json' };
		if (this.cookie) headers.cookie = this.cookie;
		if (body !== undefined) headers['content-type'] = 'application/json';
		const r = await fetch(this.baseUrl + p, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(60_000),
		});
		const setCookie = r.headers.getSetCookie?.() ?? [];
		for (const c of setCookie) {
			const m = c.match(/^(n8n-auth=[^;]*)/);
			if (m) this.cookie = m[1];
		}
		const text = await r.text();
		let json = null;
		try {
			json = JSON.parse(text);
		} catch {}
		return { status: r.status, json, text };
	}

	/** First start: create the instance owner (logs the client in); later: log in. */
	async ownerLogin({ email, password, firstName = 'E2E', lastName = 'Owner' }) {
		let r = await this.req('POST', '/rest/owner/setup', { email, password, firstName, lastName });
		if (r.status >= 300 || !this.cookie) {
			r = await this.req('POST', '/rest/login', { emailOrLdapLoginId: email, email, password });
		}
		if (r.status >= 300 || !this.cookie) throw new Error(`owner setup/login failed: HTTP ${r.status} ${r.text.slice(0, 300)}`);
		return r.json;
	}
}

