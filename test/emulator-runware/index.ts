/**
 * Runware REST emulator for `alibaba:wan@2.7-image` and `alibaba:wan@2.7-image-pro` — an independent
 * implementation of /work/shared/reference/RUNWARE_API.md that the node's Runware service is tested
 * against. It imports nothing from nodes/ and no model knowledge from the DashScope emulator (only
 * its pure rendering and image-decoding helpers).
 *
 *   const rw = await startRunwareEmulator({ timing: { queueMs: 20, perImageMs: 30 } });
 *   fetch(rw.apiUrl, { method: 'POST', headers: { Authorization: `Bearer ${RUNWARE_EMULATOR_KEYS[0]}`,
 *     'Content-Type': 'application/json' }, body: JSON.stringify([{ taskType: 'getResponse', taskUUID }]) });
 */
import { emulatorHandle } from '../emulator/control-common';
import { RunwareHttpServer } from './server';
import { RUNWARE_EMULATOR_KEYS, RunwareState } from './state';
import {
	DEFAULT_RUNWARE_TIMING,
	type RunwareCounters,
	type RunwareEmulatorOptions,
	type RunwareFaultRule,
	type RunwareRecordedRequest,
	type RunwareTaskSnapshot,
	type RunwareTiming,
} from './types';

export { RUNWARE_EMULATOR_KEYS };
export { DEFAULT_RUNWARE_TIMING } from './types';
export type * from './types';

export interface RunwareEmulator {
	/** 'http://127.0.0.1:PORT' */
	readonly url: string;
	/** `${url}${basePath}`, e.g. 'http://127.0.0.1:PORT/v1': the base URL a client configures. */
	readonly apiUrl: string;
	close(): Promise<void>;
	/** Tasks, images, counters, requests, faults, clock, timing and keys back to their start values. */
	reset(): void;
	setTiming(t: Partial<RunwareTiming>): void;
	/** Emulator clock = real time + offset. */
	advanceClock(ms: number): void;
	now(): number;
	addKey(key: string): void;
	injectFault(rule: RunwareFaultRule): void;
	clearFaults(): void;
	counters(): RunwareCounters;
	requests(): RunwareRecordedRequest[];
	task(taskUUID: string): RunwareTaskSnapshot | undefined;
	/** Every task created since the last reset, in creation order. */
	tasks(): RunwareTaskSnapshot[];
}

export async function startRunwareEmulator(opts: RunwareEmulatorOptions = {}): Promise<RunwareEmulator> {
	const basePath = `/${(opts.basePath ?? '/v1').replace(/^\/+|\/+$/g, '')}`;
	if (basePath === '/' || basePath.startsWith('/__emulator') || basePath.startsWith('/image')) throw new Error(`basePath ${basePath} is reserved`);
	const state = new RunwareState({
		timing: { ...DEFAULT_RUNWARE_TIMING },
		keys: opts.keys ?? RUNWARE_EMULATOR_KEYS,
		basePath,
		queueCapacity: opts.queueCapacity ?? Infinity,
		proPromptMax: opts.proPromptMax ?? 3000,
		defaultUrlTtlSeconds: opts.defaultUrlTtlSeconds ?? 86400,
	});
	state.setTiming(opts.timing ?? {}); // validates
	state.config.timing = { ...state.timing };
	const server = new RunwareHttpServer(state);
	const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
	state.origin = url;
	return {
		...emulatorHandle(url, basePath, server, state),
		task: (taskUUID) => {
			const task = state.tasks.get(taskUUID);
			return task ? state.snapshot(task) : undefined;
		},
		tasks: () => [...state.tasks.values()].map((task) => state.snapshot(task)),
	};
}
