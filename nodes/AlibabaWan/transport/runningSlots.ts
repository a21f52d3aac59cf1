/**
 * The account's running-task slots, as this process sees them (per service origin, key and model; shared
 * by every execution in the process, like the rate limiters).
 *
 * DashScope runs at most 5 tasks per account and model; other clients of the key (queue-mode workers,
 * other executions) take slots this process cannot see. Once a submit is answered 429 the account is
 * full, and a submit sent blindly would only meet the limit again — each such answer costs a task-list
 * check (a 429 may follow acceptance) before the item may try again. So after a 429 a submit goes out
 * only when a slot is known or likely to be free ("ack clocking", as TCP does after a loss):
 * - one of this process's own tasks of that model ended (seen by a status read) → one submit may go;
 * - the server's Retry-After has passed → one submit goes as a probe (a slot another client freed);
 * - an accepted probe sends the next probe at once; PROBES_TO_REOPEN accepted in a row → the account has
 *   room again and every submit goes (one free slot is no proof of several: "slow start").
 * While nothing has been refused, submits pass at once. Waiters are served first come, first served;
 * an abort (stop, the item's Timeout) takes a waiter out.
 */
import { abortedError } from './errors';

/** Probes accepted in a row that reopen the gate. */
const PROBES_TO_REOPEN = 3;
/** A probe never goes sooner than this after a refusal (a Retry-After of 0 must not become a loop)… */
const MIN_PROBE_MS = 1_000;
/** …without a Retry-After the wait doubles with each refusal in a row, up to this… */
const MAX_BACKOFF_PROBE_MS = 8_000;
/** …and no Retry-After holds it longer than the longest Timeout an item can have (24 h). */
const MAX_PROBE_MS = 86_400_000;
/** A gate nobody was refused by for this long reopens (the other clients are likely gone). */
const QUIET_REOPEN_MS = 60_000;

/** How a submit got through: freely, on a slot one of our tasks freed, or as a probe. */
export type SlotTicket = 'open' | 'freed' | 'probe';

interface Waiter {
	resolve(ticket: SlotTicket): void;
	detach(): void;
}

export class RunningSlots {
	/** A submit was refused (429) and the gate has not reopened since. */
	private full = false;
	/** When each slot our own tasks freed while full was seen free (not used by a submit yet). */
	private freedAt: number[] = [];
	/** A probe may go (its time came with nobody waiting). */
	private probeDue = false;
	private probesAccepted = 0;
	/** Refusals since the gate closed or a probe was last accepted (the backoff without Retry-After). */
	private refusalsInRow = 0;
	/** When the newest refused submit was sent: an older refusal or acceptance arriving later changes nothing. */
	private lastRefusedSentAt = -Infinity;
	/** When the submit that reopened the gate was sent: a refusal of an older one does not close it again. */
	private openSince = -Infinity;
	private probeTimer?: ReturnType<typeof setTimeout>;
	private readonly waiting: Waiter[] = [];

	constructor(private readonly now: () => number = Date.now) {}

	/** Whether submits are being held (for tests and logs). */
	get isFull(): boolean {
		return this.full;
	}

	/** Resolves when a submit may go; rejects with `Aborted` when the signal fires first. */
	acquire(signal?: AbortSignal): Promise<SlotTicket> {
		if (signal?.aborted) return Promise.reject(abortedError());
		// Its probe time passed with nobody sending, and nobody was refused for a minute: the others are likely gone.
		if (this.full && !this.waiting.length && !this.probeTimer && this.now() - this.lastRefusedSentAt >= QUIET_REOPEN_MS) this.reopen(this.now());
		if (!this.full) return Promise.resolve('open');
		if (!this.waiting.length) {
			const ticket = this.takeTicket();
			if (ticket) return Promise.resolve(ticket);
		}
		return new Promise<SlotTicket>((resolve, reject) => {
			const onAbort = () => {
				const at = this.waiting.indexOf(waiter);
				if (at >= 0) this.waiting.splice(at, 1);
				reject(abortedError());
			};
			const waiter: Waiter = { resolve, detach: () => signal?.removeEventListener('abort', onAbort) };
			signal?.addEventListener('abort', onAbort, { once: true });
			this.waiting.push(waiter);
		});
	}

	/** The service accepted (or created the task of) a submit sent at `sentAt` with `ticket`. */
	accepted(ticket: SlotTicket, sentAt: number = this.now()): void {
		if (!this.full || ticket !== 'probe' || sentAt < this.lastRefusedSentAt) return;
		this.refusalsInRow = 0;
		this.probesAccepted += 1;
		if (this.probesAccepted >= PROBES_TO_REOPEN) {
			this.reopen(sentAt);
			return;
		}
		this.probeDue = true;
		this.dispatch();
	}

	/**
	 * The service answered a submit sent at `sentAt` with 429 for want of a running slot: the account is
	 * full. Slots our tasks freed before that submit went out were taken by someone else meanwhile; those
	 * freed later still count (the service may have judged the submit before they ended).
	 */
	refused(retryAfterMs: number | undefined, sentAt: number = this.now(), ticket: SlotTicket = 'open'): void {
		if (!this.full && sentAt < this.openSince) return; // sent before the gate reopened: old news
		if (this.full && sentAt < this.lastRefusedSentAt) return;
		this.freedAt = this.freedAt.filter((at) => at >= sentAt);
		// Sent before the gate closed: it tells nothing new (no backoff step, no later probe).
		if (this.full && ticket === 'open') return;
		this.full = true;
		this.lastRefusedSentAt = sentAt;
		this.probeDue = false;
		this.probesAccepted = 0;
		this.refusalsInRow += 1;
		const backoff = Math.min(MIN_PROBE_MS * 2 ** (this.refusalsInRow - 1), MAX_BACKOFF_PROBE_MS);
		this.scheduleProbe(Math.min(Math.max(MIN_PROBE_MS, retryAfterMs ?? backoff), MAX_PROBE_MS));
		this.dispatch();
	}

	/** A submit that went through with `ticket` provably created nothing (failed before or without a task). */
	unused(ticket: SlotTicket): void {
		if (!this.full) return;
		if (ticket === 'freed') this.freedAt.push(this.now());
		if (ticket === 'probe') this.probeDue = true;
		this.dispatch();
	}

	/**
	 * A submit that went through with `ticket` may have created a task nobody can confirm: its slot stays
	 * taken. A lost probe is replaced by a later one, so the gate never waits on nothing.
	 */
	lost(ticket: SlotTicket): void {
		if (this.full && ticket === 'probe' && !this.probeTimer && !this.probeDue) this.scheduleProbe(MIN_PROBE_MS);
	}

	/** One of this process's tasks of this model ended: its slot is free. */
	taskEnded(): void {
		if (!this.full) return;
		this.freedAt.push(this.now());
		this.dispatch();
	}

	private takeTicket(): SlotTicket | undefined {
		if (this.freedAt.length) {
			this.freedAt.shift();
			return 'freed';
		}
		if (this.probeDue) {
			this.probeDue = false;
			return 'probe';
		}
		return undefined;
	}

	private dispatch(): void {
		while (this.waiting.length) {
			const ticket = this.takeTicket();
			if (!ticket) return;
			const waiter = this.waiting.shift()!;
			waiter.detach();
			waiter.resolve(ticket);
		}
	}

	private scheduleProbe(ms: number): void {
		clearTimeout(this.probeTimer);
		this.probeTimer = setTimeout(() => {
			this.probeTimer = undefined;
			if (!this.full) return;
			this.probeDue = true;
			this.dispatch();
		}, ms);
		// A held gate must not keep n8n (or a test) alive on its own.
		this.probeTimer.unref?.();
	}

	private reopen(since: number): void {
		this.openSince = since;
		clearTimeout(this.probeTimer);
		this.probeTimer = undefined;
		this.full = false;
		this.freedAt = [];
		this.probeDue = false;
		this.probesAccepted = 0;
		this.refusalsInRow = 0;
		for (const waiter of this.waiting.splice(0)) {
			waiter.detach();
			waiter.resolve('open');
		}
	}
}

const gates = new Map<string, RunningSlots>();
/**
 * Task ID → its gate, from the accepted submit until a status read sees the task end. Tasks nobody waits
 * for (Submit Only) never show their end here: the oldest entries go beyond this many.
 */
const runningTasks = new Map<string, RunningSlots>();
const MAX_TRACKED_TASKS = 10_000;

/** The gate of one account and model (`key`: service origin, key hash and model, as the caller builds it). */
export function runningSlots(key: string): RunningSlots {
	let gate = gates.get(key);
	if (!gate) {
		gate = new RunningSlots();
		gates.set(key, gate);
	}
	return gate;
}

/** A submit through `gate` created `taskId` (it now holds a slot until it ends). */
export function taskStarted(gate: RunningSlots, taskId: string): void {
	runningTasks.set(taskId, gate);
	if (runningTasks.size > MAX_TRACKED_TASKS) runningTasks.delete(runningTasks.keys().next().value!);
}

/** A status read saw `taskId` end (any end): its slot is free. Unknown IDs are ignored. */
export function taskEnded(taskId: string): void {
	const gate = runningTasks.get(taskId);
	if (!gate) return;
	runningTasks.delete(taskId);
	gate.taskEnded();
}

/** Forget every gate (tests). */
export function resetRunningSlots(): void {
	gates.clear();
	runningTasks.clear();
}
