// PostgreSQL and Redis for queue mode: private instances on loopback ports, data under the run's temp
// folder, started (as the postgres user when we are root) and stopped by the harness.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort, log, run, sleep } from './util.mjs';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function pgUserIds() {
	const line = fs
		.readFileSync('/etc/passwd', 'utf8')
		.split('\n')
		.find((l) => l.startsWith('postgres:'));
	if (!line) throw new Error('no "postgres" system user (is the postgresql package installed?)');
	const [, , uid, gid] = line.split(':');
	return { uid: Number(uid), gid: Number(gid) };
}

/** Make every ancestor of `p` traversable (o+x) so the postgres user can reach its data dir. */
function ensureTraversable(p) {
	let cur = path.resolve(p);
	const chain = [];
	while (cur !== path.dirname(cur)) {
		chain.push(cur);
		cur = path.dirname(cur);
	}
	for (const dir of chain) {
		const st = fs.statSync(dir);
		if ((st.mode & 0o001) === 0) fs.chmodSync(dir, st.mode | 0o001);
	}
}

/** Prefix for running a postgres binary as the postgres user (root) or as ourselves. */
function asPg(bin, args) {
	return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export async function startPostgres({ registry, binDir, dir, logDir }) {
	const port = await freePort();
	const dataDir = path.join(dir, 'data');
	const sockDir = path.join(dir, 'sock');
	fs.mkdirSync(dataDir, { recursive: true });
	fs.mkdirSync(sockDir, { recursive: true });
	if (isRoot) {
		const { uid, gid } = pgUserIds();
		ensureTraversable(dir);
		for (const d of [dir, dataDir, sockDir]) fs.chownSync(d, uid, gid);
		fs.chmodSync(dataDir, 0o700);
	}
	const logFile = path.join(logDir, 'postgres.log');
	const [initCmd, initArgs] = asPg(path.join(binDir, 'initdb'), [
		'-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
	]);
	await run(initCmd, initArgs, { logFile: path.join(logDir, 'initdb.log'), cwd: '/', registry, label: 'initdb' });
	const [cmd, args] = asPg(path.join(binDir, 'postgres'), [
		'-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', sockDir,
		'-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=100',
	]);
	const svc = registry.spawnService('postgres', cmd, args, { cwd: '/', env: { ...process.env, LC_ALL: 'C' }, logFile });
	await svc.waitFor(/database system is ready to accept connections/, { timeoutMs: 60_000 });
	const psql = path.join(binDir, 'psql');
	await run(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', 'CREATE DATABASE n8n'], {
		logFile: path.join(logDir, 'psql.log'),
		registry,
		label: 'psql',
	});
	// Fast shutdown (SIGINT to the postmaster) instead of the smart one SIGTERM would ask for.
	const stop = async () => {
		const pidFile = path.join(dataDir, 'postmaster.pid');
		let pid = null;
		try {
			pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
		} catch {}
		if (pid) {
			try {
				process.kill(pid, 'SIGINT');
			} catch {}
			const deadline = Date.now() + 15_000;
			while (Date.now() < deadline && !svc.exitInfo) await sleep(100);
		}
		await svc.stop();
	};
	const unregister = registry.onCleanup('postgres fast shutdown', stop);
	return {
		port,
		svc,
		env: {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(port),
			DB_POSTGRESDB_DATABASE: 'n8n',
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
		},
		query: (sql) =>
			execFileSync(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'n8n', '-At', '-F', '\t', '-c', sql], {
				encoding: 'utf8',
			}),
		stop: async () => {
			unregister();
			await stop();
		},
	};
}

export async function startRedis({ registry, redisServer, dir, logDir }) {
	const port = await freePort();
	fs.mkdirSync(dir, { recursive: true });
	const logFile = path.join(logDir, 'redis.log');
	const svc = registry.spawnService(
		'redis',
		redisServer,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'],
		{ cwd: dir, env: process.env, logFile },
	);
	await svc.waitFor(/Ready to accept connections/, { timeoutMs: 30_000 });
	log(`redis ready on 127.0.0.1:${port}`);
	return {
		port,
		svc,
		env: { QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(port) },
		stop: () => svc.stop(),
	};
}
