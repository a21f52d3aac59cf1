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
	/** Per-bucket schedules; they depend only on the tasks (not on `now`), so they are cached until the bucket changes. */
	private readonly schedules = new Map<string, Map<string, Schedule>>();

	add(task: TaskRecord): void {
		this.tasks.set(task.id, task);
		if (task.mode === 'async') {
			const key = bucketKey(task.apiKey, task.model);
			const list = this.buckets.get(key) ?? [];
			list.push(task);
			this.buckets.set(key, list);
			this.schedules.delete(key);
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
		this.schedules.clear();
	}

	/** Marks a (PENDING) task canceled at `now`; frees its concurrency slot from then on. */
	cancel(task: TaskRecord, now: number): void {
		task.canceledAt = now;
		this.schedules.delete(bucketKey(task.apiKey, task.model));
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
		let count = 0;
		for (const t of list) {
			const s = this.timesAt(t, now).status;
			if (s === 'PENDING' || s === 'RUNNING') count += 1;
		}
		return count;
	}

	/** Earliest time one of the active tasks of this bucket ends (for Retry-After). */
	nextSlotAt(apiKey: string, model: string, now: number): number | undefined {
		const list = this.buckets.get(bucketKey(apiKey, model)) ?? [];
		const ends = list.map((t) => this.scheduleOf(t).endAt).filter((e) => e > now);
		return ends.length ? Math.min(...ends) : undefined;
	}

	private scheduleOf(task: TaskRecord): Schedule {
		const key = bucketKey(task.apiKey, task.model);
		let schedules = this.schedules.get(key);
		if (!schedules) {
			schedules = replay(this.buckets.get(key) ?? [task]);
			this.schedules.set(key, schedules);
		}
		return schedules.get(task.id) ?? { endAt: task.submitAt };
	}
}

/**
 * Replays a bucket in submission order: each task is admitted when fewer than CONCURRENT_TASKS
 * earlier tasks hold a slot; it then stays PENDING for pendingMs and RUNNING for runningMs. A task
 * canceled before its admission never takes a slot; a canceled task frees its slot at the cancel time.
 * (Admission times never decrease in FIFO order, so slots that ended before an admission can be dropped.)
 */
function replay(list: TaskRecord[]): Map<string, Schedule> {
	const out = new Map<string, Schedule>();
	let slotEnds: number[] = [];
	for (const task of list) {
		let admitAt = task.submitAt;
		slotEnds = slotEnds.filter((e) => e > admitAt).sort((a, b) => a - b);
		if (slotEnds.length >= CONCURRENT_TASKS) {
			admitAt = slotEnds[slotEnds.length - CONCURRENT_TASKS];
			slotEnds = slotEnds.filter((e) => e > admitAt);
		}
		if (task.canceledAt !== undefined && task.canceledAt <= admitAt) {
			out.set(task.id, { endAt: task.canceledAt });
			continue;
		}
		const startAt = admitAt + task.pendingMs;
		const canceledBeforeStart = task.canceledAt !== undefined && task.canceledAt <= startAt;
		const endAt = canceledBeforeStart ? (task.canceledAt as number) : startAt + task.runningMs;
		slotEnds.push(endAt);
		out.set(task.id, { startAt: canceledBeforeStart ? undefined : startAt, endAt });
	}
	return out;
}

function bucketKey(apiKey: string, model: string): string {
	return `${apiKey}\u0000${model}`;
}
