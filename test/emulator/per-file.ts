/**
 * One emulator per test file, for either emulator (DashScope here, Runware in test/emulator-runware/):
 * registers the file's hooks — start (beforeAll), close (afterAll), reset before every test — and
 * returns a stand-in that forwards to the running emulator, so a suite can keep one constant from the
 * top of the file. Use it only inside tests and hooks; hooks registered afterwards run after these.
 */
export function setupPerFile<T extends object & { close(): Promise<void>; reset(): void }>(start: () => Promise<T>): T {
	let started: T | undefined;
	beforeAll(async () => {
		started = await start();
	});
	afterAll(() => started?.close());
	beforeEach(() => started!.reset());
	return new Proxy({} as T, {
		get(_target, key) {
			if (!started) throw new Error(`emulator not started: use emu.${String(key)} inside a test or hook`);
			const value = started[key as keyof T];
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
		},
	});
}
