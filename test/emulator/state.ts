/**
 * Mutable emulator state shared by the HTTP layer and the API handlers: clock, keys, timing,
 * counters, recorded requests, tasks, faults, limiters, uploads and the result cache.
 */
import { FaultQueue } from './faults';
import { Sleeper } from './http-common';
import { SlidingWindowLimiter } from './limits';
import { QUERIES_PER_SECOND, SUBMISSIONS_PER_SECOND, TASK_TTL_MS } from './models';
import { producedImages } from './responses';
import { PngCache, ResultSigner } from './results';
import { TaskStore, type TaskRecord } from './tasks';
import { UploadStore } from './uploads';
import { applyTiming, EmulatorClock } from './control-common';
import {
	REGION_IDS,
	type ConcurrencyPolicy,
	type Counters,
	type EmulatedTaskSnapshot,
	type RecordedRequest,
	type RegionId,
	type Timing,
} from './types';

/** Default keys registered at start (one per region). */
export const EMULATOR_KEYS: Record<RegionId, string> = {
	'ap-southeast-1': 'sk-emu-ap-southeast-1',
	'cn-beijing': 'sk-emu-cn-beijing',
	'us-east-1': 'sk-emu-us-east-1',
	'eu-central-1': 'sk-emu-eu-central-1',
};

export function emptyCounters(): Counters {
	return {
		submissions: 0,
		submissionsByKey: {},
		submissionsByModel: {},
		submitAttempts: 0,
		queries: 0,
		cancels: 0,
		lists: 0,
		syncCalls: 0,
		syncAccepted: 0,
		resultDownloads: 0,
		rejected: 0,
		throttled: 0,
	};
}

export class EmulatorState {
	timing: Timing;
	private readonly clock = new EmulatorClock();
	readonly keys = new Map<string, RegionId>();
	counters: Counters = emptyCounters();
	recorded: RecordedRequest[] = [];
	readonly tasks = new TaskStore();
	readonly faults = new FaultQueue();
	readonly submitLimiter = new SlidingWindowLimiter(SUBMISSIONS_PER_SECOND);
	readonly queryLimiter = new SlidingWindowLimiter(QUERIES_PER_SECOND);
	readonly uploads = new UploadStore();
	readonly pngCache = new PngCache();
	readonly signer = new ResultSigner();
	/** Public origin, e.g. http://127.0.0.1:8787 (set once listening). */
	origin = '';
	private readonly sleeper = new Sleeper();

	constructor(
		private readonly initialTiming: Timing,
		readonly concurrencyPolicy: ConcurrencyPolicy,
		readonly defaultRegion: RegionId,
	) {
		this.timing = { ...initialTiming };
		this.resetKeys();
	}

	now(): number {
		return this.clock.now();
	}

	advanceClock(ms: number): void {
		this.clock.advance(ms);
	}

	setTiming(t: Partial<Timing>): void {
		applyTiming(this.timing, t, ['pendingMs', 'runningMs', 'syncDelayMs', 'listLagMs']);
	}

	addKey(key: string, region: RegionId): void {
		if (typeof key !== 'string' || key.length === 0) throw new Error('key must be a non-empty string');
		if (!REGION_IDS.includes(region)) throw new Error(`unknown region ${String(region)}`);
		this.keys.set(key, region);
	}

	/** Tasks, counters, faults, limiters, uploads, clock offset, timing and keys back to their start values. */
	reset(): void {
		this.tasks.clear();
		this.counters = emptyCounters();
		this.recorded = [];
		this.faults.clear();
		this.submitLimiter.clear();
		this.queryLimiter.clear();
		this.uploads.clear();
		this.pngCache.clear();
		this.clock.reset();
		this.timing = { ...this.initialTiming };
		this.resetKeys();
	}

	private resetKeys(): void {
		this.keys.clear();
		for (const region of REGION_IDS) this.keys.set(EMULATOR_KEYS[region], region);
	}

	/** A delay that close() can cut short (so no timer outlives the server). */
	sleep(ms: number): Promise<void> {
		return this.sleeper.sleep(ms);
	}

	/** Ends every pending sleep now and makes later ones return at once (server closing). */
	wakeAll(): void {
		this.sleeper.wakeAll();
	}

	resultUrl(task: TaskRecord, index: number): string {
		const endAt = this.tasks.timesAt(task, this.now()).endAt ?? this.now();
		const expiresSec = Math.floor((endAt + TASK_TTL_MS) / 1000);
		return this.signer.url(this.origin, task.region, task.id, index, expiresSec);
	}

	snapshot(task: TaskRecord): EmulatedTaskSnapshot {
		const now = this.now();
		const times = this.tasks.timesAt(task, now);
		const produced = times.status === 'SUCCEEDED' ? producedImages(task) : 0;
		return {
			taskId: task.id,
			mode: task.mode,
			model: task.model,
			region: task.region,
			apiKey: task.apiKey,
			status: times.status,
			expired: this.tasks.isExpired(task, now),
			submitTime: task.submitAt,
			scheduledTime: times.scheduledAt,
			endTime: times.endAt,
			canceledAt: task.canceledAt,
			request: task.request,
			prompt: task.job.prompt,
			promptTruncated: task.job.promptTruncated,
			requestedImages: task.job.imageCount,
			producedImages: produced,
			failedImages: task.outcome.status === 'SUCCEEDED' ? task.outcome.failedImages : task.job.imageCount,
			width: task.job.width,
			height: task.job.height,
			seed: task.job.seed,
			seedGenerated: task.job.seedGenerated,
			inputImages: task.job.inputs.map((i) => ({ source: i.source, format: i.format, width: i.width, height: i.height, bytes: i.bytes })),
			params: task.job.params,
			outcome: { status: task.outcome.status, code: task.outcome.code, message: task.outcome.message },
			resultUrls: Array.from({ length: produced }, (_, i) => this.resultUrl(task, i)),
		};
	}
}
