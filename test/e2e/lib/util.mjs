// Small shared helpers for the e2e harness (plain ESM, runs on Node 20+).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const t0 = Date.now();

export function elapsed() {
	return ((Date.now() - t0) / 1000).toFixed(1).padStart(6) + 's';
}

export function log(...args) {
	process.stdout.write(`[e2e ${elapsed()}] ${args.join(' ')}\n`);
}

export function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

export function fmtSecs(ms) {
	return `${(ms / 1000).toFixed(1)}s`;
}

/** Free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/**
 * Run a command to completion (no shell). Output goes to `logFile` (appended) when given, otherwise
 * it is captured. Rejects on non-zero exit unless `allowFail`. Returns { code, stdout, stderr, ms }.
 * The child runs in its own process group and is registered with the process registry so that
 * SIGINT/failure cleanup can kill it.
 */
export function run(cmd, args, opts = {}) {
	const { cwd, env, logFile, allowFail = false, timeoutMs = 0, input, registry, label } = opts;
	const started = Date.now();
	return new Promise((resolve, reject) => {
		let out = '';
		let err = '';
		let fd = null;
		if (logFile) {
			fd = fs.openSync(logFile, 'a');
			fs.writeSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
		}
		const child = spawn(cmd, args, {
			cwd,
			env: env ?? process.env,
			detached: true,
			stdio: [input === undefined ? 'ignore' : 'pipe', fd ?? 'pipe', fd ?? 'pipe'],
		});
		// One-shot commands (CLI imports, `n8n execute`, npm): short grace period, then SIGKILL.
		const entry = registry?.add(child, label ?? `${cmd} ${args[0] ?? ''}`, { graceMs: 5000 });
		if (input !== undefined) {
			child.stdin.end(input);
		}
		if (!fd) {
			child.stdout.on('data', (d) => (out += d));
			child.stderr.on('data', (d) => (err += d));
		}
		let timer = null;
		if (timeoutMs > 0) {
			timer = setTimeout(() => {
				try {
					process.kill(-child.pid, 'SIGKILL');
				} catch {}
			}, timeoutMs);
		}
		child.on('error', (e) => {
			if (timer) clearTimeout(timer);
			if (fd !== null) fs.closeSync(fd);
			registry?.remove(entry);
			reject(e);
		});
		child.on('close', (code, signal) => {
			if (timer) clearTimeout(timer);
			if (fd !== null) fs.closeSync(fd);
			registry?.remove(entry);
			const res = { code: code ?? 128, signal, stdout: out, stderr: err, ms: Date.now() - started };
			if (code !== 0 && !allowFail) {
				const tail = logFile ? tailFile(logFile, 40) : (err || out).split('\n').slice(-40).join('\n');
				const e = new Error(
					`command failed (exit ${code}${signal ? ', ' + signal : ''}${timeoutMs && Date.now() - started >= timeoutMs ? ', timed out' : ''}): ${cmd} ${args.join(' ')}\n${tail}`,
				);
				e.result = res;
				reject(e);
			} else {
				resolve(res);
			}
		});
	});
}

export function tailFile(file, lines = 40) {
	try {
		return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch {
		return '';
	}
}

export function readIfExists(file) {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return null;
	}
}

export function rmrf(p) {
	fs.rmSync(p, { recursive: true, force: true });
}
