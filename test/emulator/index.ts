/**
 * DashScope (Alibaba Cloud Model Studio) emulator for the Wan image models — an independent
 * implementation of the documented API (see /work/shared/reference/DASHSCOPE_API.md) that tests and
 * the demo run against. It deliberately shares no code with nodes/ or credentials/.
 *
 *   const emu = await startEmulator({ timing: { pendingMs: 20, runningMs: 50 } });
 *   fetch(`${emu.baseUrl('cn-beijing')}/tasks/${id}`, { headers: { Authorization: `Bearer ${EMULATOR_KEYS['cn-beijing']}` } });
 */
import { EmulatorHttpServer } from './server';
import { EMULATOR_KEYS, EmulatorState } from './state';
import {
	DEFAULT_TIMING,
	isRegionId,
	type Counters,
	type EmulatedTaskSnapshot,
	type EmulatorOptions,
	type FaultRule,
	type RecordedRequest,
	type RegionId,
	type Timing,
} from './types';

export { EMULATOR_KEYS };
export { DEFAULT_TIMING, REGION_IDS } from './types';
export type {
	ConcurrencyPolicy,
	Counters,
	EmulatedTaskSnapshot,
	EmulatorOptions,
	FaultAction,
	FaultKind,
	FaultRule,
	RecordedRequest,
	RegionId,
	RequestKind,
	TaskStatus,
	Timing,
} from './types';

export interface Emulator {
	/** 'http://127.0.0.1:PORT' */
	readonly url: string;
	/** `${url}/${region}/api/v1` (region default = defaultRegion). */
	baseUrl(region?: RegionId): string;
	/** Closes the server and all keep-alive sockets. */
	close(): Promise<void>;
	/** Tasks, counters, recorded requests, faults, clock offset, timing and keys back to their start values. */
	reset(): void;
	setTiming(t: Partial<Timing>): void;
	/** Emulator clock = real time + offset. */
	advanceClock(ms: number): void;
	/** Emulator clock, epoch ms. */
	now(): number;
	addKey(key: string, region: RegionId): void;
	/** Rules are consumed in order of injection. */
	injectFault(rule: FaultRule): void;
	/** Drops all pending fault rules (extra). */
	clearFaults(): void;
	counters(): Counters;
	/** Every API request received, result downloads (kind 'result') and OSS uploads included. */
	requests(): RecordedRequest[];
	task(taskId: string): EmulatedTaskSnapshot | undefined;
	/** Every task and sync call created since the last reset, in creation order. */
	tasks(): EmulatedTaskSnapshot[];
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
	const defaultRegion = opts.defaultRegion ?? 'ap-southeast-1';
	if (!isRegionId(defaultRegion)) throw new Error(`unknown defaultRegion ${String(defaultRegion)}`);
	const state = new EmulatorState({ ...DEFAULT_TIMING, ...(opts.timing ?? {}) }, opts.concurrencyPolicy ?? 'reject', defaultRegion);
	state.setTiming(opts.timing ?? {}); // validates the values
	const server = new EmulatorHttpServer(state);
	const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
	state.origin = url;
	let closed: Promise<void> | undefined;
	return {
		url,
		baseUrl: (region = defaultRegion) => `${url}/${region}/api/v1`,
		close: () => (closed ??= server.close()),
		reset: () => state.reset(),
		setTiming: (t) => state.setTiming(t),
		advanceClock: (ms) => state.advanceClock(ms),
		now: () => state.now(),
		addKey: (key, region) => state.addKey(key, region),
		injectFault: (rule) => state.faults.add(rule),
		clearFaults: () => state.faults.clear(),
		counters: () => structuredClone(state.counters),
		requests: () => [...state.recorded],
		task: (taskId) => {
			const task = state.tasks.get(taskId);
			return task ? state.snapshot(task) : undefined;
		},
		tasks: () => state.tasks.all().map((task) => state.snapshot(task)),
	};
}
