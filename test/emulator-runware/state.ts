/**
 * Mutable emulator state: clock, keys, timing, counters, recorded requests, tasks (by taskUUID),
 * produced images (by imageUUID), faults and the picture cache.
 */
import { Sleeper } from '../emulator/http-common';
import { RunwareFaultQueue } from './faults';
import { PictureCache, type PictureSpec } from './pictures';
import { modelRules, type InferenceJob, type ModelId, type ModelRules } from './validation';
import type { RunwareCounters, RunwareRecordedRequest, RunwareResultStatus, RunwareTaskSnapshot, RunwareTiming } from './types';
import { applyTiming, EmulatorClock } from '../emulator/control-common';

/** Keys accepted at start. */
export const RUNWARE_EMULATOR_KEYS: readonly string[] = ['rw-emu-key-1', 'rw-emu-key-2'];

export interface ResultFailure {
	code: string;
	message: string;
}

export interface TaskRecord {
	taskUUID: string;
	apiKey: string;
	job: InferenceJob;
	request: Record<string, unknown>;
	submittedAt: number;
	queueMs: number;
	perImageMs: number;
	imageUUIDs: string[];
	/** Failed results by index. */
	failures: Map<number, ResultFailure>;
	/** Failures reported in top-level `errors` instead of per-item `status: "error"`. */
	failuresTopLevel: boolean;
}

export function emptyCounters(): RunwareCounters {
	return {
		requests: 0,
		submissions: 0,
		submissionsByTaskUUID: {},
		tasksCreated: 0,
		tasksByModel: {},
		conflicts: 0,
		polls: 0,
		downloads: 0,
		authTasks: 0,
		authFailures: 0,
		rejected: 0,
		throttled: 0,
	};
}

export interface StateConfig {
	timing: RunwareTiming;
	keys: readonly string[];
	basePath: string;
	queueCapacity: number;
	proPromptMax: number;
	defaultUrlTtlSeconds: number;
}

export class RunwareState {
	timing: RunwareTiming;
	readonly keys = new Set<string>();
	counters = emptyCounters();
	recorded: RunwareRecordedRequest[] = [];
	readonly tasks = new Map<string, TaskRecord>();
	readonly images = new Map<string, { task: TaskRecord; index: number }>();
	readonly faults = new RunwareFaultQueue();
	readonly pictures = new PictureCache();
	readonly rules: Record<ModelId, ModelRules>;
	origin = '';
	private readonly clock = new EmulatorClock();
	private readonly sleeper = new Sleeper();

	constructor(readonly config: StateConfig) {
		this.timing = { ...config.timing };
		this.rules = modelRules(config.proPromptMax);
		this.resetKeys();
	}

	now(): number {
		return this.clock.now();
	}

	advanceClock(ms: number): void {
		this.clock.advance(ms);
	}

	setTiming(t: Partial<RunwareTiming>): void {
		applyTiming(this.timing, t, ['queueMs', 'perImageMs', 'syncDelayMs']);
	}

	addKey(key: string): void {
		if (typeof key !== 'string' || key.length === 0) throw new Error('key must be a non-empty string');
		this.keys.add(key);
	}

	reset(): void {
		this.tasks.clear();
		this.images.clear();
		this.counters = emptyCounters();
		this.recorded = [];
		this.faults.clear();
		this.pictures.clear();
		this.clock.reset();
		this.timing = { ...this.config.timing };
		this.resetKeys();
	}

	private resetKeys(): void {
		this.keys.clear();
		for (const key of this.config.keys) this.keys.add(key);
	}

	/** A delay that close() cuts short. */
	sleep(ms: number): Promise<void> {
		return this.sleeper.sleep(ms);
	}

	wakeAll(): void {
		this.sleeper.wakeAll();
	}

	/** When result `index` is finished (emulator clock). */
	readyAt(task: TaskRecord, index: number): number {
		return task.submittedAt + task.queueMs + (index + 1) * task.perImageMs;
	}

	status(task: TaskRecord, index: number, now = this.now()): RunwareResultStatus {
		if (now < this.readyAt(task, index)) return 'processing';
		return task.failures.has(index) ? 'error' : 'success';
	}

	/** Unfinished async tasks of a key (for the queue capacity). */
	unfinished(apiKey: string): number {
		const now = this.now();
		let n = 0;
		for (const task of this.tasks.values()) {
			if (task.apiKey === apiKey && now < this.readyAt(task, task.job.numberResults - 1)) n++;
		}
		return n;
	}

	/** Until when result `index`'s URL answers (ttl, else the default lifetime). */
	urlExpiresAt(task: TaskRecord, index: number): number {
		return this.readyAt(task, index) + (task.job.ttl ?? this.config.defaultUrlTtlSeconds) * 1000;
	}

	pictureSpec(task: TaskRecord, index: number): PictureSpec {
		const { job } = task;
		return {
			model: job.model,
			width: job.width,
			height: job.height,
			seed: job.seeds[index],
			prompt: job.prompt,
			index,
			imageCount: job.numberResults,
			inputs: job.inputs,
			boxes: job.boxes,
			cost: job.includeCost ? job.price : undefined,
			format: job.outputFormat,
			quality: job.outputQuality,
		};
	}

	picture(imageUUID: string): Promise<Buffer> | undefined {
		const found = this.images.get(imageUUID);
		if (!found || this.status(found.task, found.index) !== 'success') return undefined;
		return this.pictures.get(imageUUID, this.pictureSpec(found.task, found.index));
	}

	snapshot(task: TaskRecord): RunwareTaskSnapshot {
		const { job } = task;
		const now = this.now();
		return {
			taskUUID: task.taskUUID,
			model: job.model,
			apiKey: task.apiKey,
			deliveryMethod: job.deliveryMethod,
			request: task.request,
			numberResults: job.numberResults,
			width: job.width,
			height: job.height,
			outputType: job.outputType,
			outputFormat: job.outputFormat,
			seeds: [...job.seeds],
			seedGenerated: job.seedGenerated,
			inputImages: job.inputs.map((i) => ({ source: i.source, format: i.format, width: i.width, height: i.height, bytes: i.bytes })),
			statuses: job.seeds.map((_, i) => this.status(task, i, now)),
			imageUUIDs: [...task.imageUUIDs],
			submittedAt: task.submittedAt,
		};
	}
}
