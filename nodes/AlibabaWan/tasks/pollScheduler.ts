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
 * - Batch looks: when the session can report several tasks in one request (`lookAtTasks`), two or
 *   more tasks are waited on, and their run lengths are not known yet or are spread (tasks that run
 *   alike are read on their own just after their predicted ends), ONE look replaces the per-task polls: it goes out when any task's plan
 *   above says so, and in between every `PERIODIC_LOOK_GAP_MS` while the execution has query credit to
 *   spare. Credit is earned at `LOOK_QUERY_SHARE` × the official SDKs' schedule for every task waited on and
 *   spent by every query (looks, and the reads that collect a task a look saw end), so the execution
 *   never sends much more than the SDKs would. A task a look saw end is read at once; a task the looks
 *   cover is still read on its own every `BACKUP_READ_GAP_MS` (a look's freshness is UNCONFIRMED); a
 *   task a look left out is polled on its own plan. A look that fails for good turns looks off.
 */
import type { TaskGlance, TaskSnapshot, WanSession } from '../services';
import { abortedError } from '../transport/errors';
import { sleep } from '../transport/retry';
import { MIN_GAP_MS, RunLengthModel, sdkPollsWithin } from './runLengthModel';
import { terminalStatuses } from './taskResults';

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
const LEARNING_SUBMIT_SPACING_MS = 80;
/** …for the first this many submits at most (a service that answers at once never teaches a length). */
const LEARNING_SUBMITS = 10;
const WINDOW_MS = 1_000;

/**
 * Batch looks: the shortest gap between looks sent on spare credit (a finished task then waits about
 * half of it), and the credit kept per covered task for the looks its own plan asks for.
 */
const PERIODIC_LOOK_GAP_MS = 250;
const RESERVE_PER_TASK = 1;
/** Tasks whose run lengths (at least this many seen) spread less than this are read on their own plans. */
const ALIKE_SAMPLES = 3;
const ALIKE_SPREAD_MS = 500;
/**
 * Queries per task relative to the SDKs' schedule that looks and reads may spend together (the bench
 * allows 1.5; the reads a look triggers, the overdraft and clock differences take the rest).
 */
const LOOK_QUERY_SHARE = 1.35;
/** A look asked for by a task's plan may still go out this far below zero credit. */
const OVERDRAFT = 2;
/** Below the overdraft, the look is reconsidered this often (credit is earned as the tasks age). */
const CREDIT_RECHECK_MS = 250;
/** A task the looks cover is still read on its own this often (a look may lag behind the task: UNCONFIRMED). */
const BACKUP_READ_GAP_MS = 15_000;
/** A look that showed a task running this long after its own read says it ended means the looks lag. */
const STALE_LOOK_MS = 1_000;
/** One look's own time limit. */
const LOOK_TIMEOUT_MS = 10_000;
/** Looks that failed in a row (each retried after a backoff) before looks are turned off for the execution. */
const FAILED_LOOKS_LIMIT = 5;
/**
 * A look that shows none of the tasks counts as empty only once the tasks asked about are this old: a new
 * task may show in a list or a batch answer a moment late (UNCONFIRMED; Runware's grace is 30 s).
 */
const NEW_TASK_GRACE_MS = 30_000;
/**
 * Reads without the service's times that found a task ended which the last look still showed running,
 * in a row, before the looks are taken to lag (with times, one read proves it).
 */
const UNTIMED_STALE_READS_LIMIT = 2;
/** Looks that covered none of the tasks in a row before looks are turned off for the execution. */
const EMPTY_LOOKS_LIMIT = 3;

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
	/** When tracking began, our clock (SDK-schedule credit is earned from here, or from submittedAt). */
	trackedAt: number;
	/** When its own last read (getTask) left, our clock. */
	lastReadAt?: number;
	/** SDK-schedule polls already credited for this task. */
	creditedPolls: number;
	/**
	 * What the looks know of it: `new` (no look asked yet: the next look will), `covered` (the last look
	 * reported it), `left out` (a look did not report it, or failed: it keeps its own plan).
	 */
	look: 'new' | 'covered' | 'left out';
	/** A batch look saw it end: its wait reads it at once. */
	ended?: TaskGlance;
	/** Its run length was taught to the model (once, whether a look or a read saw the end). */
	taught: boolean;
	/** The SDKs' last poll (the one that sees the end) was credited. */
	endCredited: boolean;
	/** When the last look that saw it still running left, our clock. */
	lookSawRunningAt?: number;
}

export class PollScheduler {
	private readonly tasks = new Map<string, TrackedTask>();
	private readonly model = new RunLengthModel();
	private readonly sent: number[] = [];
	private nextSubmitAt = 0;
	private spacedSubmits = 0;
	/** The service's clock minus ours (its submit time against when our submit answered), when known. */
	private clockOffset?: number;
	/** Batch looks: query credit (see the header), the look timer, and whether looks are off for good. */
	private credit = 0;
	private lookTimer?: ReturnType<typeof setTimeout>;
	private lookInFlight = false;
	private lastLookAt = -Infinity;
	private lookBackoffUntil = 0;
	private failedLooksInARow = 0;
	private emptyLooksInARow = 0;
	private untimedStaleReads = 0;
	private looksOff = false;
	private wasLooking = false;
	/** When looks (re)started: spare credit buys the first periodic look a gap after it, not at once. */
	private lookingSince = 0;
	/** The executions's cancel signal, as handed to the waits. */
	private signal?: AbortSignal;

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
		const now = this.now();
		this.tasks.set(taskId, {
			submittedAt,
			runStart: submittedAt ?? now,
			waits: 1,
			replans: new Set(),
			trackedAt: now,
			creditedPolls: 0,
			look: 'new',
			taught: false,
			endCredited: false,
		});
		this.earnCredit(now);
		this.planLook();
	}

	forget(taskId: string): void {
		const task = this.tasks.get(taskId);
		if (!task || --task.waits > 0) return;
		this.tasks.delete(taskId);
		// Before any task finished, another task may now be the one to watch closely.
		if (this.model.size === 0) this.replanAll();
		this.planLook();
	}

	/** When the task should next be read on its own (epoch ms, our clock). */
	plannedAt(taskId: string): number {
		const task = this.tasks.get(taskId);
		if (!task) return this.now();
		// A look saw it end: collect it now. The looks cover it: only the occasional backup read.
		if (task.ended) return this.now();
		// Looks in use and this task is (or is about to be) in them: its own plan asks for a look instead.
		if (task.look !== 'left out' && this.looking()) return (task.lastReadAt ?? task.trackedAt) + BACKUP_READ_GAP_MS;
		return this.ownPlanAt(task);
	}

	/** When the task's own plan says it is next worth a look (its polls and the looks that covered it counted). */
	private ownPlanAt(task: TrackedTask): number {
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
		if (signal) this.signal = signal;
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
			this.planLook();
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
				this.earnCredit(now);
				this.credit -= 1;
				return;
			}
			await sleep(this.sent[0] + WINDOW_MS - now, signal);
		}
	}

	/** What a read of the task (getTask) sent at `sentAt` saw. */
	observe(taskId: string, snapshot: TaskSnapshot, sentAt: number): void {
		const task = this.tasks.get(taskId);
		if (!task) return;
		task.lastReadAt = sentAt;
		const seenByLook = task.ended !== undefined;
		task.ended = undefined;
		this.learn(task, snapshot, sentAt);
		if (!terminalStatuses.has(snapshot.status)) return;
		const ended = this.ourTime(snapshot.endedAt, snapshot, task);
		if (ended !== undefined && task.submittedAt !== undefined) {
			// Credit stops where the task ended, not where we saw it end (a late sight must not buy looks).
			const owed = sdkPollsWithin(ended - task.submittedAt);
			if (owed < task.creditedPolls) {
				this.credit -= LOOK_QUERY_SHARE * (task.creditedPolls - owed);
				task.creditedPolls = owed;
			}
		}
		// Its own read finds it ended while the last look still showed it running: the looks lag behind.
		if (seenByLook || task.lookSawRunningAt === undefined) return;
		const stale = ended !== undefined ? ended < task.lookSawRunningAt - STALE_LOOK_MS : ++this.untimedStaleReads >= UNTIMED_STALE_READS_LIMIT;
		if (stale) {
			this.looksOff = true;
			this.replanAll();
			this.planLook();
		}
	}

	/** What the task's status (from a read or a look, sent at `sentAt`) teaches: its start, its run length. */
	private learn(task: TrackedTask, snapshot: TaskSnapshot | TaskGlance, sentAt: number): void {
		task.lastPollAt = sentAt;
		if (terminalStatuses.has(snapshot.status) && !task.endCredited) {
			// The SDKs' schedule ends with the poll that sees the end: credit it too.
			task.endCredited = true;
			this.credit += LOOK_QUERY_SHARE;
		}
		if (snapshot.submittedAt !== undefined && task.submittedAt !== undefined) {
			// The service stamped the submit before we had its answer: the largest difference is the closest.
			const offset = snapshot.submittedAt - task.submittedAt;
			this.clockOffset = this.clockOffset === undefined ? offset : Math.max(this.clockOffset, offset);
		}
		const started = this.ourTime(snapshot.startedAt, snapshot, task);
		if (started !== undefined) task.runStart = Math.min(started, sentAt);
		else if (snapshot.status === 'PENDING') task.runStart = Math.max(task.runStart, sentAt);
		if (snapshot.status !== 'SUCCEEDED' || task.taught) return;
		// Only successes teach the run length (a task refused at once says nothing about the others), and
		// only when its start is known: the service's own times, or our submit. A task we only collect
		// (Wait for Task) may have ended long before we started watching it.
		let length: number | undefined;
		if (snapshot.startedAt !== undefined && snapshot.endedAt !== undefined) length = snapshot.endedAt - snapshot.startedAt;
		else if (task.submittedAt !== undefined) length = (this.ourTime(snapshot.endedAt, snapshot, task) ?? sentAt) - task.runStart;
		if (length === undefined) return;
		task.taught = true;
		this.model.add(length);
		this.replanAll();
		this.planLook();
	}

	// ------------------------------------------------------------------------------- batch looks

	/** Whether batch looks are in use now: the session offers them, they work, 2+ tasks are waited on, and they help. */
	private looking(): boolean {
		return !this.looksOff && this.session.lookAtTasks !== undefined && this.lookable().length >= 2 && this.looksHelp();
	}

	/** The tasks a look would ask about: a wait is waiting for its turn, and no look saw it end yet. */
	private lookable(): Array<[string, TrackedTask]> {
		return [...this.tasks].filter(([, task]) => task.replans.size > 0 && !task.ended);
	}

	/** Credit for every task waited on: LOOK_QUERY_SHARE per poll the SDKs' schedule would have sent by now. */
	private earnCredit(now: number): void {
		for (const task of this.tasks.values()) {
			if (task.endCredited) continue;
			const polls = sdkPollsWithin(now - (task.submittedAt ?? task.trackedAt));
			if (polls > task.creditedPolls) {
				this.credit += LOOK_QUERY_SHARE * (polls - task.creditedPolls);
				task.creditedPolls = polls;
			}
		}
	}

	/** (Re)sets the look timer for the next look, or clears it when looks are not in use. */
	private planLook(): void {
		if (this.lookInFlight) return; // planned again when the look in flight answers
		clearTimeout(this.lookTimer);
		this.lookTimer = undefined;
		const looking = this.looking() && !this.signal?.aborted;
		// Looks just started or stopped (a second task, one task left, turned off): every wait re-plans,
		// handing its task to the looks or back to its own plan.
		if (this.wasLooking !== looking) {
			this.wasLooking = looking;
			if (looking) this.lookingSince = this.now();
			this.replanAll();
		}
		if (!looking) return;
		const now = this.now();
		this.earnCredit(now);
		const tasks = this.lookable().map(([, task]) => task);
		let at = Infinity;
		// A task's own plan asks for a look (the looks that covered it count as its polls)…
		for (const task of tasks) at = Math.min(at, this.ownPlanAt(task));
		at = Math.max(at, this.lastLookAt + MIN_GAP_MS);
		// …and spare credit buys one every PERIODIC_LOOK_GAP_MS.
		if (this.credit >= RESERVE_PER_TASK * tasks.length + 1) at = Math.min(at, Math.max(this.lastLookAt, this.lookingSince) + PERIODIC_LOOK_GAP_MS);
		at = Math.max(at, this.lookBackoffUntil);
		if (!Number.isFinite(at)) return;
		this.lookTimer = setTimeout(() => void this.look(), Math.max(0, at - now));
		this.lookTimer.unref?.(); // the waits hold the execution open, never a look timer
	}

	/**
	 * Looks pay off while the run lengths are not known yet, or when those seen are spread: then an end may
	 * come any time to any task. When the tasks run alike, each one's own read lands just after its end
	 * and brings its result at once (a look would need that read too).
	 */
	private looksHelp(): boolean {
		return this.model.size < ALIKE_SAMPLES || this.model.spreadMs >= ALIKE_SPREAD_MS;
	}

	private async look(): Promise<void> {
		this.lookTimer = undefined;
		const now = this.now();
		this.earnCredit(now);
		if (!this.looking()) {
			this.planLook(); // hands the tasks back to their own plans
			return;
		}
		if (this.credit <= -OVERDRAFT) {
			this.lookTimer = setTimeout(() => void this.look(), CREDIT_RECHECK_MS);
			this.lookTimer.unref?.();
			return;
		}
		const signal = this.signal;
		this.lookInFlight = true;
		try {
			await this.takeQuery(signal);
			const sentAt = this.now();
			this.lastLookAt = sentAt;
			// The query is taken: send the look even if a task's own read went first meanwhile.
			const ids = this.lookable().map(([id]) => id);
			if (ids.length === 0) return;
			let glances: Map<string, TaskGlance>;
			try {
				glances = await this.session.lookAtTasks!(ids, { signal, deadline: sentAt + LOOK_TIMEOUT_MS, timeoutMs: LOOK_TIMEOUT_MS, retry: { maxAttempts: 1 } });
			} catch (error) {
				if (signal?.aborted) return;
				// A failed look leaves every task to its own plan meanwhile; one that fails for good (or again
				// and again) ends looks for the execution.
				for (const task of this.tasks.values()) task.look = 'left out';
				if (!this.session.isTransient(error) || ++this.failedLooksInARow >= FAILED_LOOKS_LIMIT) this.looksOff = true;
				else this.lookBackoffUntil = this.now() + Math.min(1000 * 2 ** (this.failedLooksInARow - 1), 30_000);
				return;
			}
			this.failedLooksInARow = 0;
			let covered = 0;
			let oldestAsked = Infinity;
			for (const id of ids) {
				const task = this.tasks.get(id);
				if (!task) continue;
				oldestAsked = Math.min(oldestAsked, task.submittedAt ?? task.trackedAt);
				const glance = glances.get(id);
				task.look = glance ? 'covered' : 'left out';
				if (!glance) continue;
				covered++;
				this.learn(task, glance, sentAt);
				if (terminalStatuses.has(glance.status)) {
					task.ended = glance;
					this.untimedStaleReads = 0; // the looks do see ends
				}
				else task.lookSawRunningAt = sentAt;
			}
			// Nothing shown counts only once the tasks are old enough to be listed for sure.
			if (covered > 0) this.emptyLooksInARow = 0;
			else if (sentAt - oldestAsked >= NEW_TASK_GRACE_MS) this.emptyLooksInARow++;
			if (this.emptyLooksInARow >= EMPTY_LOOKS_LIMIT) this.looksOff = true;
		} catch {
			// Aborted while waiting for budget: the waits end on the same signal.
		} finally {
			this.lookInFlight = false;
			this.replanAll();
			this.planLook();
		}
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
