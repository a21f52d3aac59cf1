// Process registry: every child the harness starts runs in its own process group (detached) and is
// registered here, so cleanup (normal end, failure, SIGINT/SIGTERM) can stop it by pid / group id.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { log, sleep, tailFile } from './util.mjs';

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

function groupAlive(pgid) {
	try {
		process.kill(-pgid, 0);
		return true;
	} catch {
		return false;
	}
}

export class ProcessRegistry {
	constructor() {
		this.entries = new Set();
		/** extra cleanup steps (e.g. `pg_ctl stop`), run before killing groups, newest first */
		this.cleanups = [];
	}

	add(child, label, { graceMs } = {}) {
		const entry = { child, pid: child.pid, label, exited: false, graceMs };
		child.once('exit', () => (entry.exited = true));
		this.entries.add(entry);
		return entry;
	}

	remove(entry) {
		if (entry) this.entries.delete(entry);
	}

	onCleanup(label, fn) {
		const item = { label, fn };
		this.cleanups.push(item);
		return () => {
			const i = this.cleanups.indexOf(item);
			if (i >= 0) this.cleanups.splice(i, 1);
		};
	}

	/**
	 * Start a long-running process in its own process group, stdout+stderr to `logFile`.
	 * Returns a handle with waitFor(regex), stop(), pid, logFile.
	 */
	spawnService(label, cmd, args, { cwd, env, logFile }) {
		const fd = fs.openSync(logFile, 'a');
		const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
		fs.closeSync(fd);
		const entry = this.add(child, label);
		let exitInfo = null;
		const exited = new Promise((resolve) => {
			child.once('exit', (code, signal) => {
				exitInfo = { code, signal };
				resolve(exitInfo);
			});
		});
		child.on('error', (e) => log(`[${label}] spawn error: ${e.message}`));
		const handle = {
			label,
			pid: child.pid,
			logFile,
			child,
			exited,
			get exitInfo() {
				return exitInfo;
			},
			log: () => fs.readFileSync(logFile, 'utf8'),
			/** Wait until the log matches `re` (checked from `fromOffset`). Fails fast if the process dies. */
			waitFor: async (re, { timeoutMs = 120_000, fromOffset = 0 } = {}) => {
				const deadline = Date.now() + timeoutMs;
				for (;;) {
					const text = fs.readFileSync(logFile, 'utf8').slice(fromOffset);
					const m = text.match(re);
					if (m) return m;
					if (exitInfo) {
						throw new Error(
							`${label} exited (code ${exitInfo.code}, signal ${exitInfo.signal}) before logging ${re}\n--- ${logFile} (tail) ---\n${tailFile(logFile, 40)}`,
						);
					}
					if (Date.now() > deadline) {
						throw new Error(`${label}: timed out after ${timeoutMs} ms waiting for ${re}\n--- ${logFile} (tail) ---\n${tailFile(logFile, 40)}`);
					}
					await sleep(250);
				}
			},
			stop: (opts) => this.stopEntry(entry, opts),
		};
		entry.handle = handle;
		return handle;
	}

	/** SIGTERM the group, wait, then SIGKILL. */
	async stopEntry(entry, { graceMs = entry.graceMs ?? 15_000 } = {}) {
		const pgid = entry.pid;
		if (!pgid) return;
		if (groupAlive(pgid)) {
			try {
				process.kill(-pgid, 'SIGTERM');
			} catch {}
			const deadline = Date.now() + graceMs;
			while (groupAlive(pgid) && Date.now() < deadline) await sleep(200);
			if (groupAlive(pgid)) {
				log(`[cleanup] ${entry.label} (pgid ${pgid}) ignored SIGTERM for ${graceMs} ms: SIGKILL`);
				try {
					process.kill(-pgid, 'SIGKILL');
				} catch {}
				const d2 = Date.now() + 5000;
				while (groupAlive(pgid) && Date.now() < d2) await sleep(100);
			}
		}
		this.entries.delete(entry);
	}

	/** Stop everything: custom cleanups (newest first), then every registered group in reverse start order. */
	async stopAll() {
		const cleanups = this.cleanups.splice(0).reverse();
		for (const c of cleanups) {
			try {
				await c.fn();
			} catch (e) {
				log(`[cleanup] ${c.label}: ${e.message.split('\n')[0]}`);
			}
		}
		const entries = [...this.entries].reverse();
		await Promise.all(entries.map((e) => this.stopEntry(e).catch(() => {})));
	}

	/** Last-resort synchronous kill (used from process 'exit'). */
	killAllSync() {
		for (const e of this.entries) {
			if (e.pid && (groupAlive(e.pid) || alive(e.pid))) {
				try {
					process.kill(-e.pid, 'SIGKILL');
				} catch {}
			}
		}
	}
}
