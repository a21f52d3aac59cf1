/**
 * One poll scheduler for all the tasks an execution waits on (one per session, so per execution),
 * whatever the service: it decides when each task is looked at next, and keeps the execution's queries
 * within the account's query budget.
 *
 * - After a submit the next look is planned, not sent at once (a task just created is never done).
 * - Until a task of the execution has finished, its submits go out LEARNING_SUBMIT_SPACING_MS apart.
 * - Until a task of the execution has finished, the longest-running task is looked at every
 *   `LEAD_GAP_MS` (its end teaches the others' length) and the others sparsely.
 * - Once tasks have finished, their run lengths (the service's start/end times, else our own view)
 *   predict the others' ends: polls go where a task most likely just ended (tasks/runLengthModel.ts).
 *   Every plan is redone when a task finishes.
 * - Polls of the execution never exceed `BUDGET_SHARE` of the session's query budget in any second.
 */
import type { TaskSnapshot, WanSession } from '../services';
import { abortedError } from '../transport/errors';
import { sleep } from '../transport/retry';
import { MIN_GAP_MS, RunLengthModel } from './runLengthModel';

/**
 * Until a task has finished: the oldest running task is looked at every LEAD_GAP_MS (a hundredth of its
 * age once that is longer), which costs about what the SDKs' schedule costs for the whole batch…
 */
const LEAD_GAP_MS = 600;
const LEAD_GAP_PER_AGE = 0.01;
/** …and the others (most likely still running while the oldest is) at about their own age, within these bounds. */
const OTHER_GAP_MIN_MS = 8_000;
const OTHER_GAP_MAX_MS = 30_000;
/**
 * Share of the account's query budget this execution's polls may use in any 1 s window: the server
 * counts arrivals, which jitter against our departures, and other callers may share the key.
 */
const BUDGET_SHARE = 0.9;
/** Query budget (per second) when the service states none. */
const DEFAULT_QUERY_BUDGET = 10;
/**
 * Until a task has finished, submits start at least this far apart: tasks that start a little apart
 * end a little apart, so when the first one is seen done, the next ones are polled just as they end
 * (instead of all being found by the same late poll).
 */
const LEARNING_SUBMIT_SPACING_MS = 120;
/** …for the first this many submits at most (a service that answers at once never teaches a length). */
const LEARNING_SUBMITS = 10;
const WINDOW_MS = 1_000;

interface TrackedTask {
	/** When the submit answered, our clock (tasks this execution created). */
	submittedAt?: number;
	/** Best estimate of when it started running, our clock. */
	runStart: number;
	/** When the last poll left, our clock. */
	lastPollAt?: number;
	/** Waits on this task now (two items may wait on the same ID): the entry goes when the last one ends. */
	waits: number;
	/** Re-plans each pending wait for its turn (one per waiting item). */
	replans: Set<() => void>;
}

export class PollScheduler {
	private readonly tasks = new Map<string, TrackedTask>();
	private readonly model = new RunLengthModel();
	private readonly sent: number[] = [];
	private nextSubmitAt = 0;
	private spacedSubmits = 0;
	/** The service's clock minus ours (its submit time against when our submit answered), when known. */
	private clockOffset?: number;

	constructor(
		private readonly session: WanSession,
		private readonly now: () => number = Date.now,
	) {}

	/**
	 * Resolves when the execution may send its next submit: while no task has finished yet, the first
	 * LEARNING_SUBMITS submits of a waiting run go out LEARNING_SUBMIT_SPACING_MS apart; then at once.
	 */
	async beforeSubmit(signal?: AbortSignal): Promise<void> {
		if (this.model.size > 0 || this.spacedSubmits >= LEARNING_SUBMITS) return;
		this.spacedSubmits++;
		const now = this.now();
		const at = Math.max(now, this.nextSubmitAt);
		this.nextSubmitAt = at + LEARNING_SUBMIT_SPACING_MS;
		await sleep(at - now, signal);
	}

	/** Start planning for a task; `submittedAt` when this execution just created it. */
	track(taskId: string, submittedAt?: number): void {
		const known = this.tasks.get(taskId);
		if (known) {
			// Another item waits on the same task: one entry, one plan, counted so the first to end keeps it.
			known.waits++;
			if (submittedAt !== undefined && known.submittedAt === undefined) known.submittedAt = submittedAt;
			return;
		}
		this.tasks.set(taskId, { submittedAt, runStart: submittedAt ?? this.now(), waits: 1, replans: new Set() });
	}

	forget(taskId: string): void {
		const task = this.tasks.get(taskId);
		if (!task || --task.waits > 0) return;
		this.tasks.delete(taskId);
		// Before any task finished, another task may now be the one to watch closely.
		if (this.model.size === 0) this.replanAll();
	}

	/** When the task should next be looked at (epoch ms, our clock). */
	plannedAt(taskId: string): number {
		const task = this.tasks.get(taskId);
		if (!task) return this.now();
		const from = task.lastPollAt ?? task.runStart;
		if (this.model.size > 0) {
			return task.runStart + this.model.nextPollAge(Math.max(0, from - task.runStart));
		}
		const age = Math.max(0, from - task.runStart);
		const gap = this.isLead(task) ? Math.max(LEAD_GAP_MS, LEAD_GAP_PER_AGE * age) : Math.min(OTHER_GAP_MAX_MS, Math.max(OTHER_GAP_MIN_MS, age));
		return Math.max(from + MIN_GAP_MS, from + gap);
	}

	/**
	 * Resolves when it is this task's turn (re-planned whenever a task of the execution finishes) or at
	 * `deadline`; rejects with Aborted when `signal` fires.
	 */
	waitTurn(taskId: string, deadline: number, signal?: AbortSignal): Promise<void> {
		if (signal?.aborted) return Promise.reject(abortedError());
		const task = this.tasks.get(taskId);
		// Not tracked (a caller that skipped track()): never poll back to back, the execution's budget is shared.
		if (!task) return sleep(Math.max(0, Math.min(MIN_GAP_MS, deadline - this.now())), signal);
		return new Promise<void>((resolve, reject) => {
			let timer: ReturnType<typeof setTimeout> | undefined;
			const finish = (error?: unknown) => {
				clearTimeout(timer);
				task.replans.delete(replan);
				signal?.removeEventListener('abort', onAbort);
				if (error) reject(error);
				else resolve();
			};
			const onAbort = () => finish(abortedError());
			const replan = () => {
				clearTimeout(timer);
				const at = Math.min(this.plannedAt(taskId), deadline);
				timer = setTimeout(() => finish(), Math.max(0, at - this.now()));
			};
			task.replans.add(replan);
			signal?.addEventListener('abort', onAbort, { once: true });
			replan();
		});
	}

	/** Waits until the execution may send one more query within its budget, and counts it. */
	async takeQuery(signal?: AbortSignal): Promise<void> {
		for (;;) {
			const now = this.now();
			while (this.sent.length && now - this.sent[0] >= WINDOW_MS) this.sent.shift();
			const budget = this.session.queryBudget?.() ?? DEFAULT_QUERY_BUDGET;
			if (this.sent.length < Math.max(1, Math.floor(budget * BUDGET_SHARE))) {
				this.sent.push(now);
				return;
			}
			await sleep(this.sent[0] + WINDOW_MS - now, signal);
		}
	}

	/** What a poll sent at `sentAt` saw. */
	observe(taskId: string, snapshot: TaskSnapshot, sentAt: number): void {
		const task = this.tasks.get(taskId);
		if (!task) return;
		task.lastPollAt = sentAt;
		if (snapshot.submittedAt !== undefined && task.submittedAt !== undefined) {
			// The service stamped the submit before we had its answer: the largest difference is the closest.
			const offset = snapshot.submittedAt - task.submittedAt;
			this.clockOffset = this.clockOffset === undefined ? offset : Math.max(this.clockOffset, offset);
		}
		const started = this.ourTime(snapshot.startedAt, snapshot, task);
		if (started !== undefined) task.runStart = Math.min(started, sentAt);
		else if (snapshot.status === 'PENDING') task.runStart = Math.max(task.runStart, sentAt);
		if (snapshot.status !== 'SUCCEEDED') return;
		// Only successes teach the run length (a task refused at once says nothing about the others), and
		// only when its start is known: the service's own times, or our submit. A task we only collect
		// (Wait for Task) may have ended long before we started watching it.
		let length: number | undefined;
		if (snapshot.startedAt !== undefined && snapshot.endedAt !== undefined) length = snapshot.endedAt - snapshot.startedAt;
		else if (task.submittedAt !== undefined) length = (this.ourTime(snapshot.endedAt, snapshot, task) ?? sentAt) - task.runStart;
		if (length === undefined) return;
		this.model.add(length);
		this.replanAll();
	}

	private replanAll(): void {
		for (const task of this.tasks.values()) for (const replan of task.replans) replan();
	}

	/** A service timestamp on our clock: through the task's own submit time, else the learned offset. */
	private ourTime(serviceTime: number | undefined, snapshot: TaskSnapshot, task: TrackedTask): number | undefined {
		if (serviceTime === undefined) return undefined;
		if (snapshot.submittedAt !== undefined && task.submittedAt !== undefined) return task.submittedAt + (serviceTime - snapshot.submittedAt);
		return this.clockOffset === undefined ? undefined : serviceTime - this.clockOffset;
	}

	/** Before any task finished: the task running longest is the one to watch closely. */
	private isLead(task: TrackedTask): boolean {
		for (const other of this.tasks.values()) if (other.runStart < task.runStart) return false;
		return true;
	}
}

const schedulers = new WeakMap<WanSession, PollScheduler>();

/** The execution's scheduler: a session lives for one execution, so all its waits share one. */
export function pollSchedulerFor(session: WanSession): PollScheduler {
	let scheduler = schedulers.get(session);
	if (!scheduler) {
		scheduler = new PollScheduler(session);
		schedulers.set(session, scheduler);
	}
	return scheduler;
}
