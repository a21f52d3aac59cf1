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
 * - a probe was accepted → the account has room again: every submit goes (those that meet the limit close
 *   the gate again).
 * While nothing has been refused, submits pass at once. Waiters are served first come, first served;
 * an abort (stop, the item's Timeout) takes a waiter out.
 */
import { abortedError } from './errors';

/** Without a Retry-After, probe this long after the refusal… */
const DEFAULT_PROBE_MS = 1_000;
/** …and never later than this (a submit that waits longer ends at its item's Timeout anyway). */
const MAX_PROBE_MS = 60_000;

/** How a submit got through: freely, on a slot one of our tasks freed, or as a probe. */
export type SlotTicket = 'open' | 'freed' | 'probe';

interface Waiter {
	resolve(ticket: SlotTicket): void;
	reject(error: unknown): void;
	detach(): void;
}

export class RunningSlots {
	/** A submit was refused (429) and the gate has not reopened since. */
	private full = false;
	/** Slots our own tasks freed while full that no submit has used yet. */
	private freed = 0;
	/** A probe may go (its time came with nobody waiting). */
	private probeDue = false;
	private probeTimer?: ReturnType<typeof setTimeout>;
	private readonly waiting: Waiter[] = [];

	/** Whether submits are being held (for tests and logs). */
	get isFull(): boolean {
		return this.full;
	}

	/** Resolves when a submit may go; rejects with `Aborted` when the signal fires first. */
	acquire(signal?: AbortSignal): Promise<SlotTicket> {
		if (signal?.aborted) return Promise.reject(abortedError());
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
			const waiter: Waiter = {
				resolve,
				reject,
				detach: () => signal?.removeEventListener('abort', onAbort),
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			this.waiting.push(waiter);
		});
	}

	/** The service accepted a submit that went through with `ticket`. */
	accepted(ticket: SlotTicket): void {
		if (this.full && ticket === 'probe') this.reopen();
	}

	/** The service answered a submit 429: the account is full until a slot frees. */
	refused(retryAfterMs: number | undefined): void {
		this.full = true;
		this.freed = 0;
		this.probeDue = false;
		this.scheduleProbe(Math.min(retryAfterMs ?? DEFAULT_PROBE_MS, MAX_PROBE_MS));
	}

	/** A submit that went through with `ticket` was not answered either way (a failure, an abort). */
	unused(ticket: SlotTicket): void {
		if (!this.full) return;
		if (ticket === 'freed') this.freed += 1;
		if (ticket === 'probe') this.probeDue = true;
		this.dispatch();
	}

	/** One of this process's tasks of this model ended: its slot is free. */
	taskEnded(): void {
		if (!this.full) return;
		this.freed += 1;
		this.dispatch();
	}

	private takeTicket(): SlotTicket | undefined {
		if (this.freed > 0) {
			this.freed -= 1;
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
		}, Math.max(0, ms));
		// A held gate must not keep n8n (or a test) alive on its own.
		this.probeTimer.unref?.();
	}

	private reopen(): void {
		clearTimeout(this.probeTimer);
		this.probeTimer = undefined;
		this.full = false;
		this.freed = 0;
		this.probeDue = false;
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
