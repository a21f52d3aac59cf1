/** Forking bench children (TypeScript through tsx) with IPC, a hard time limit, and request/response messages. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BENCH_DIR = join(__dirname, '..');

export interface Child {
	proc: ChildProcess;
	/** The next message the child sent on its own (not an answer to call()). */
	next(): Promise<Record<string, unknown>>;
	send(msg: Record<string, unknown>): void;
	call<T = unknown>(cmd: string, extra?: Record<string, unknown>): Promise<T>;
	/** Resolves with the child's exit code. */
	exited: Promise<number | null>;
	kill(): void;
	/** The last 20 kB the child printed (unless BENCH_VERBOSE=1, which passes it through). */
	output(): string;
}

const verbose = process.env.BENCH_VERBOSE === '1';

export function forkTs(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; timeoutMs: number; label: string }): Child {
	const proc = fork(join(BENCH_DIR, script), args, {
		execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
		env: { ...process.env, ...(options.env ?? {}) },
		// The engine logs (n8n-core's key notice, node errors of runs that are meant to fail): kept, shown on failure.
		stdio: verbose ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
	});
	let log = '';
	const keep = (chunk: Buffer) => {
		log = (log + chunk.toString('utf8')).slice(-20_000);
	};
	proc.stdout?.on('data', keep);
	proc.stderr?.on('data', keep);
	let nextId = 1;
	const pending = new Map<number, (v: unknown) => void>();
	const inbox: Array<Record<string, unknown>> = [];
	const waiters: Array<{ resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
	let gone: Error | undefined;
	proc.on('message', (msg: Record<string, unknown>) => {
		if (typeof msg.id === 'number' && pending.has(msg.id)) {
			pending.get(msg.id)!(msg.result);
			pending.delete(msg.id);
		} else if (waiters.length) {
			waiters.shift()!.resolve(msg);
		} else {
			inbox.push(msg);
		}
	});
	const timer = setTimeout(() => {
		process.stderr.write(`[bench] ${options.label}: time limit ${options.timeoutMs} ms reached, stopping it\n`);
		proc.kill('SIGKILL');
	}, options.timeoutMs);
	const exited = new Promise<number | null>((resolve) => {
		proc.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
			clearTimeout(timer);
			gone = new Error(`${options.label} exited (code ${code}, signal ${signal}) before reporting${log ? `; it printed:\n${log}` : ''}`);
			for (const w of waiters.splice(0)) w.reject(gone);
			for (const [, r] of pending) r(undefined);
			resolve(code);
		});
	});
	return {
		proc,
		next: () =>
			inbox.length
				? Promise.resolve(inbox.shift()!)
				: gone
					? Promise.reject(gone)
					: new Promise((resolve, reject) => waiters.push({ resolve, reject })),
		send: (msg) => {
			if (proc.connected) proc.send(msg);
		},
		exited,
		call: <T>(cmd: string, extra: Record<string, unknown> = {}) =>
			new Promise<T>((resolve, reject) => {
				if (!proc.connected) return reject(new Error(`${options.label} is not running`));
				const id = nextId++;
				pending.set(id, resolve as (v: unknown) => void);
				proc.send({ id, cmd, ...extra });
			}),
		output: () => log,
		kill: () => {
			if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
		},
	};
}
