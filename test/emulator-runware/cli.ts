/**
 * Runs the Runware emulator as a process (reached through `npm run emulator -- --service runware …`):
 *   --port N  --host H  --base-path /v1  --queue-ms N  --per-image-ms N  --sync-delay-ms N
 *   --key K (repeatable; replaces the default keys)  --queue-capacity N
 * Prints "Runware emulator listening on http://HOST:PORT" and the keys; exits cleanly on SIGTERM/SIGINT.
 */
import { RUNWARE_EMULATOR_KEYS, startRunwareEmulator, type RunwareEmulatorOptions, type RunwareTiming } from './index';

export const RUNWARE_USAGE =
	'Usage: npm run emulator -- --service runware [--port N] [--host H] [--base-path /v1] [--queue-ms N] [--per-image-ms N] [--sync-delay-ms N] [--key K]... [--queue-capacity N]\n';

export function parseRunwareArgs(argv: string[]): RunwareEmulatorOptions {
	const opts: RunwareEmulatorOptions = {};
	const timing: Partial<RunwareTiming> = {};
	const keys: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const eq = arg.indexOf('=');
		const flag = eq > 0 ? arg.slice(0, eq) : arg;
		const value = (): string => {
			if (eq > 0) return arg.slice(eq + 1);
			const v = argv[++i];
			if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
			return v;
		};
		const num = (): number => {
			const n = Number(value());
			if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number`);
			return n;
		};
		if (flag === '--port') opts.port = num();
		else if (flag === '--host') opts.host = value();
		else if (flag === '--base-path') opts.basePath = value();
		else if (flag === '--queue-ms') timing.queueMs = num();
		else if (flag === '--per-image-ms') timing.perImageMs = num();
		else if (flag === '--sync-delay-ms') timing.syncDelayMs = num();
		else if (flag === '--queue-capacity') opts.queueCapacity = num();
		else if (flag === '--key') keys.push(value());
		else throw new Error(`unknown option ${arg}\n${RUNWARE_USAGE}`);
	}
	if (Object.keys(timing).length) opts.timing = timing;
	if (keys.length) opts.keys = keys;
	return opts;
}

export async function runRunwareCli(argv: string[]): Promise<void> {
	if (argv.includes('--help') || argv.includes('-h')) {
		process.stdout.write(RUNWARE_USAGE);
		return;
	}
	let opts: RunwareEmulatorOptions;
	try {
		opts = parseRunwareArgs(argv);
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n`);
		process.exit(2);
	}
	const emulator = await startRunwareEmulator(opts);
	process.stdout.write(`Runware emulator listening on ${emulator.url}\n`);
	process.stdout.write(`  API (POST): ${emulator.apiUrl}\n`);
	for (const key of opts.keys ?? RUNWARE_EMULATOR_KEYS) process.stdout.write(`  key: ${key}\n`);
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		process.stdout.write(`Runware emulator stopping (${signal})\n`);
		emulator.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
}
