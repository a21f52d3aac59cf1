/**
 * Runs the Runware emulator as a process (reached through `npm run emulator -- --service runware …`):
 *   --port N  --host H  --base-path /v1  --queue-ms N  --per-image-ms N  --sync-delay-ms N
 *   --key K (repeatable; replaces the default keys)  --queue-capacity N
 * Prints "Runware emulator listening on http://HOST:PORT" and the keys; exits cleanly on SIGTERM/SIGINT.
 */
import { eachFlag, runEmulatorCli } from '../emulator/cli-common';
import { RUNWARE_EMULATOR_KEYS, startRunwareEmulator, type RunwareEmulatorOptions, type RunwareTiming } from './index';

export const RUNWARE_USAGE =
	'Usage: npm run emulator -- --service runware [--port N] [--host H] [--base-path /v1] [--queue-ms N] [--per-image-ms N] [--sync-delay-ms N] [--key K]... [--queue-capacity N]\n';

export function parseRunwareArgs(argv: string[]): RunwareEmulatorOptions {
	const opts: RunwareEmulatorOptions = {};
	const timing: Partial<RunwareTiming> = {};
	const keys: string[] = [];
	eachFlag(argv, ({ flag, arg, value, num }) => {
		if (flag === '--port') opts.port = num();
		else if (flag === '--host') opts.host = value();
		else if (flag === '--base-path') opts.basePath = value();
		else if (flag === '--queue-ms') timing.queueMs = num();
		else if (flag === '--per-image-ms') timing.perImageMs = num();
		else if (flag === '--sync-delay-ms') timing.syncDelayMs = num();
		else if (flag === '--queue-capacity') opts.queueCapacity = num();
		else if (flag === '--key') keys.push(value());
		else throw new Error(`unknown option ${arg}\n${RUNWARE_USAGE}`);
	});
	if (Object.keys(timing).length) opts.timing = timing;
	if (keys.length) opts.keys = keys;
	return opts;
}

export function runRunwareCli(argv: string[]): Promise<void> {
	return runEmulatorCli(argv, {
		name: 'Runware',
		usage: RUNWARE_USAGE,
		parse: parseRunwareArgs,
		start: (opts) => startRunwareEmulator(opts),
		describe: (emulator, opts) => [`API (POST): ${emulator.apiUrl}`, ...(opts.keys ?? RUNWARE_EMULATOR_KEYS).map((key) => `key: ${key}`)],
	});
}
