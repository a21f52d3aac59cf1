/**
 * The child side of forkTs (./proc.ts): loading the engine harness, reporting to the parent over IPC,
 * and the run/exit protocol every benchmark worker follows.
 */
import type { BinaryStore, runNode } from '../../test/harness/n8nEngine';

/**
 * The n8n engine harness and an initialised filesystem BinaryStore. Loaded on demand: n8n-core reads
 * N8N_USER_FOLDER when it loads, so the caller checks that first.
 */
export async function loadEngine(): Promise<{ store: BinaryStore; runNode: typeof runNode }> {
	const harness = await import('../../test/harness/n8nEngine');
	const store = new harness.BinaryStore();
	await store.init();
	return { store, runNode: harness.runNode };
}

/** Sends a message to the parent and resolves once it is handed over. */
export function sendToParent(message: Record<string, unknown>): Promise<void> {
	return new Promise<void>((resolve) => process.send!(message, () => resolve()));
}

/**
 * Runs the worker's main(), then disconnects from the parent; a failure is reported as { error } with
 * exit code 1. If the parent goes away (crashed or was stopped), the worker does not linger. (That
 * listener keeps the IPC channel referenced, which is why the worker disconnects when done.)
 */
export function runWorker(main: () => Promise<void>): void {
	process.on('disconnect', () => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0));
	main()
		.then(() => process.disconnect())
		.catch((err) => {
			process.exitCode = 1;
			process.send?.({ error: err instanceof Error ? err.stack : String(err) }, () => process.disconnect());
		});
}
