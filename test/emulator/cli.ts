/**
 * Runs the DashScope emulator as a process:
 *   npx tsx test/emulator/cli.ts --port 8787 [--host 127.0.0.1] [--pending-ms N] [--running-ms N]
 *     [--sync-delay-ms N] [--default-region ap-southeast-1] [--concurrency reject|queue]
 *   npx tsx test/emulator/cli.ts --service runware --port 8788 …  (the Runware emulator; test/emulator-runware/cli.ts)
 *   npx tsx test/emulator/cli.ts --service gateway --port 8789 [--dialect seed|images] …  (the gateway emulator; test/emulator-gateway/cli.ts)
 * Prints "DashScope emulator listening on http://HOST:PORT" and the keys; exits cleanly on SIGTERM/SIGINT.
 */
import { closeOnSignals } from './cli-common';
import { EMULATOR_KEYS, startEmulator, type EmulatorOptions, type Timing } from './index';
import { isRegionId, REGION_IDS } from './types';

function parseArgs(argv: string[]): EmulatorOptions {
	const opts: EmulatorOptions = {};
	const timing: Partial<Timing> = {};
	const need = (i: number, flag: string): string => {
		const v = argv[i + 1];
		if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
		return v;
	};
	const num = (v: string, flag: string): number => {
		const n = Number(v);
		if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number`);
		return n;
	};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
		const value = (): string => {
			if (inline !== undefined) return inline;
			const v = need(i, flag);
			i += 1;
			return v;
		};
		switch (flag) {
			case '--port':
				opts.port = num(value(), flag);
				break;
			case '--host':
				opts.host = value();
				break;
			case '--pending-ms':
				timing.pendingMs = num(value(), flag);
				break;
			case '--running-ms':
				timing.runningMs = num(value(), flag);
				break;
			case '--sync-delay-ms':
				timing.syncDelayMs = num(value(), flag);
				break;
			case '--default-region': {
				const r = value();
				if (!isRegionId(r)) throw new Error(`--default-region must be one of ${REGION_IDS.join(', ')}`);
				opts.defaultRegion = r;
				break;
			}
			case '--concurrency': {
				const p = value();
				if (p !== 'reject' && p !== 'queue') throw new Error('--concurrency must be reject or queue');
				opts.concurrencyPolicy = p;
				break;
			}
			case '--help':
			case '-h':
				process.stdout.write(
					'Usage: tsx test/emulator/cli.ts [--service dashscope|runware|gateway] [--port N] [--host H] [--pending-ms N] [--running-ms N] [--sync-delay-ms N] [--default-region R] [--concurrency reject|queue]\n',
				);
				process.exit(0);
				break;
			default:
				throw new Error(`unknown option ${arg}`);
		}
	}
	if (Object.keys(timing).length) opts.timing = timing;
	return opts;
}

/** `--service runware|gateway` (anywhere in the arguments) starts that emulator instead; `dashscope` is the default. */
function takeService(argv: string[]): { service: string; rest: string[] } {
	const rest = [...argv];
	const at = rest.findIndex((a) => a === '--service' || a.startsWith('--service='));
	if (at < 0) return { service: 'dashscope', rest };
	const service = rest[at].includes('=') ? rest[at].slice('--service='.length) : (rest[at + 1] ?? '');
	rest.splice(at, rest[at].includes('=') ? 1 : 2);
	return { service, rest };
}

async function main(): Promise<void> {
	const { service, rest } = takeService(process.argv.slice(2));
	if (service === 'runware') {
		const { runRunwareCli } = await import('../emulator-runware/cli');
		await runRunwareCli(rest);
		return;
	}
	if (service === 'gateway') {
		const { runGatewayCli } = await import('../emulator-gateway/cli');
		await runGatewayCli(rest);
		return;
	}
	if (service !== 'dashscope') {
		process.stderr.write('--service must be dashscope (default), runware or gateway\n');
		process.exit(2);
	}
	let opts: EmulatorOptions;
	try {
		opts = parseArgs(rest);
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n`);
		process.exit(2);
	}
	const emulator = await startEmulator(opts);
	process.stdout.write(`DashScope emulator listening on ${emulator.url}\n`);
	for (const region of REGION_IDS) {
		process.stdout.write(`  key ${region}: ${EMULATOR_KEYS[region]}  base URL ${emulator.baseUrl(region)}\n`);
	}
	closeOnSignals('DashScope', () => emulator.close());
}

main().catch((err) => {
	process.stderr.write(`DashScope emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
	process.exit(1);
});
