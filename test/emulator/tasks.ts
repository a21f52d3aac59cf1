/**
 * Task store and lifecycle. Statuses are derived from the emulator clock, never from timers:
 * PENDING (queued + pendingMs) → RUNNING (runningMs) → SUCCEEDED/FAILED, or CANCELED when a PENDING
 * task is canceled. With the 'queue' concurrency policy a task beyond the 5-slot limit stays
 * PENDING until an earlier task of the same account+model ends; the schedule is recomputed by
 * replaying the bucket in submission order, which keeps everything deterministic under advanceClock.
 */
import { CONCURRENT_TASKS, TASK_TTL_MS, type ModelId } from './models';
import type { RegionId, TaskStatus } from './types';
import type { JobSpec } from './validation';

export interface TaskOutcome {
	status: 'SUCCEEDED' | 'FAILED';
	code?: string;
	message?: string;
	/** Images that failed inside a SUCCEEDED task (partial failure). */
	failedImages: number;
	failedCode?: string;
	failedMessage?: string;
}

export interface TaskRecord {
	id: string;
	mode: 'async' | 'sync';
	apiKey: string;
	region: RegionId;
	model: ModelId;
	submitAt: number;
	pendingMs: number;
	runningMs: number;
	canceledAt?: number;
	job: JobSpec;
	request: unknown;
	outcome: TaskOutcome;
	/** request_id of the create call (used in task lists). */
	requestId: string;
}

export interface TaskTimes {
	status: TaskStatus;
	/** When the task started RUNNING (scheduled_time). */
	scheduledAt?: number;
	endAt?: number;
}

interface Schedule {
	startAt?: number;
	endAt: number;
}

export class TaskStore {
	private readonly tasks = new Map<string, TaskRecord>();
	private readonly buckets = new Map<string, TaskRecord[]>();

	add(task: TaskRecord): void {
		this.tasks.set(task.id, task);
		if (task.mode === 'async') {
			const key = bucketKey(task.apiKey, task.model);
			const list = this.buckets.get(key) ?? [];
			list.push(task);
			this.buckets.set(key, list);
		}
	}

	get(id: string): TaskRecord | undefined {
		return this.tasks.get(id);
	}

	all(): TaskRecord[] {
		return [...this.tasks.values()];
	}

	clear(): void {
		this.tasks.clear();
		this.buckets.clear();
	}

	/** Lifecycle state at `now`, ignoring the 24 h expiry (see `isExpired`). */
	timesAt(task: TaskRecord, now: number): TaskTimes {
		if (task.mode === 'sync') {
			const endAt = task.submitAt + task.runningMs;
			return now >= endAt
				? { status: task.outcome.status, scheduledAt: task.submitAt, endAt }
				: { status: 'RUNNING', scheduledAt: task.submitAt };
		}
		const schedule = this.scheduleOf(task);
		if (task.canceledAt !== undefined && now >= task.canceledAt) {
			return { status: 'CANCELED', endAt: task.canceledAt };
		}
		if (schedule.startAt === undefined || now < schedule.startAt) return { status: 'PENDING' };
		if (now < schedule.endAt) return { status: 'RUNNING', scheduledAt: schedule.startAt };
		return { status: task.outcome.status, scheduledAt: schedule.startAt, endAt: schedule.endAt };
	}

	isExpired(task: TaskRecord, now: number): boolean {
		return now - task.submitAt > TASK_TTL_MS;
	}

	/** Non-terminal async tasks of this account+model at `now` (PENDING or RUNNING). */
	activeCount(apiKey: string, model: string, now: number): number {
		const list = this.buckets.get(bucketKey(apiKey, model)) ?? [];
		return list.filter((t) => {
			const s = this.timesAt(t, now).status;
			return s === 'PENDING' || s === 'RUNNING';
		}).length;
	}

	/** Earliest time one of the active tasks of this bucket ends (for Retry-After). */
	nextSlotAt(apiKey: string, model: string, now: number): number | undefined {
		const list = this.buckets.get(bucketKey(apiKey, model)) ?? [];
		const ends = list.map((t) => this.scheduleOf(t).endAt).filter((e) => e > now);
		return ends.length ? Math.min(...ends) : undefined;
	}

	/**
	 * Replays the bucket: each task is admitted when fewer than CONCURRENT_TASKS earlier tasks hold a
	 * slot; it then stays PENDING for pendingMs and RUNNING for runningMs. A task canceled before its
	 * admission never takes a slot; a canceled task frees its slot at the cancel time.
	 */
	private scheduleOf(target: TaskRecord): Schedule {
		const list = this.buckets.get(bucketKey(target.apiKey, target.model)) ?? [target];
		const slotEnds: number[] = [];
		for (const task of list) {
			let admitAt = task.submitAt;
			const busy = slotEnds.filter((e) => e > admitAt).sort((a, b) => a - b);
			if (busy.length >= CONCURRENT_TASKS) admitAt = busy[busy.length - CONCURRENT_TASKS];
			let schedule: Schedule;
			if (task.canceledAt !== undefined && task.canceledAt <= admitAt) {
				schedule = { endAt: task.canceledAt };
			} else {
				const startAt = admitAt + task.pendingMs;
				const endAt = task.canceledAt !== undefined ? Math.min(task.canceledAt, startAt) : startAt + task.runningMs;
				slotEnds.push(endAt);
				schedule = { startAt: task.canceledAt !== undefined && task.canceledAt <= startAt ? undefined : startAt, endAt };
			}
			if (task === target) return schedule;
		}
		return { endAt: target.submitAt };
	}
}

function bucketKey(apiKey: string, model: string): string {
	return `${apiKey}\u0000${model}`;
}
