/**
 * Generic pieces of the emulators' command lines (the Runware and gateway CLIs; the DashScope CLI
 * uses closeOnSignals): flag reading (`--flag value` or `--flag=value`), the run loop (help, parse,
 * start, print, stop on SIGTERM/SIGINT). No API knowledge.
 */

export interface FlagReader {
	/** '--port' (without any '=value'). */
	flag: string;
	/** The argument as written. */
	arg: string;
	/** The flag's value (inline after '=' or the next argument). */
	value(): string;
	/** The value as a number >= 0. */
	num(): number;
}

/** Calls `handle` once per flag; `handle` throws for an unknown one. */
export function eachFlag(argv: string[], handle: (reader: FlagReader) => void): void {
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
		handle({ flag, arg, value, num });
	}
}

/** Closes the emulator on SIGTERM/SIGINT and exits (0, or 1 when closing failed). */
export function closeOnSignals(name: string, close: () => Promise<void>): void {
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		process.stdout.write(`${name} emulator stopping (${signal})\n`);
		close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
}

export interface EmulatorCliSpec<O, E extends { url: string; close(): Promise<void> }> {
	/** 'Runware' → "Runware emulator listening on …". */
	name: string;
	usage: string;
	parse(argv: string[]): O;
	start(options: O): Promise<E>;
	/** Lines printed after the address (base URL, keys, …). */
	describe(emulator: E, options: O): string[];
}

/** `--help` prints the usage; a bad flag exits 2 with its message; else starts, prints and runs until a signal. */
export async function runEmulatorCli<O, E extends { url: string; close(): Promise<void> }>(argv: string[], spec: EmulatorCliSpec<O, E>): Promise<void> {
	if (argv.includes('--help') || argv.includes('-h')) {
		process.stdout.write(spec.usage);
		return;
	}
	let options: O;
	try {
		options = spec.parse(argv);
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n`);
		process.exit(2);
	}
	const emulator = await spec.start(options);
	process.stdout.write(`${spec.name} emulator listening on ${emulator.url}\n`);
	for (const line of spec.describe(emulator, options)) process.stdout.write(`  ${line}\n`);
	closeOnSignals(spec.name, () => emulator.close());
}
