/**
 * Polls one task until it is terminal, the Timeout passes, or the execution is cancelled. Nothing here
 * throws: every way a wait can end is an outcome, and actions/taskRunner.ts turns each into items or an
 * n8n error that says whether the task is still running and how to collect it.
 *
 * Transient poll failures (the session's `isTransient`: 429, 5xx, resets, timeouts) never end a wait early: the loop backs off and
 * keeps asking until the Timeout. Every request is bounded by what is left of the Timeout.
 * When each poll goes out is the execution's poll scheduler's call (tasks/pollScheduler.ts), unless the
 * user set a fixed Poll Interval.
 */
import type { WanSession } from '../services';
import { sleep } from '../transport';
import { pollSchedulerFor, type PollScheduler } from './pollScheduler';
import type { TaskResult, TaskStatus } from './taskResults';

export interface WaitOptions {
	signal?: AbortSignal;
	timeoutMs: number;
	/** Fixed poll interval; 0 or undefined = planned by the execution's poll scheduler (tasks/pollScheduler.ts). */
	pollIntervalMs?: number;
	/** When this execution's submit of the task answered (epoch ms): set for tasks it just created. */
	submittedAt?: number;
	/** Images the task owes when `n` is exact (the result reports each missing one). */
	requestedImages?: number;
}

/** How a wait ended. Only `finished` carries a terminal status; the others leave a task that may run on. */
export type WaitOutcome =
	| { kind: 'finished'; result: TaskResult }
	| { kind: 'timeout'; taskId: string; lastStatus?: TaskStatus; lastError?: unknown; failedPolls: number; timeoutMs: number }
	| { kind: 'aborted'; taskId: string; lastStatus?: TaskStatus }
	/** A poll failed in a way retrying cannot fix (bad key, unreadable answer). */
	| { kind: 'failed'; taskId: string; lastStatus?: TaskStatus; error: unknown };

/** The official SDKs' schedule (start at 1 s, double after every third poll, cap at 5 s): used when no scheduler plans. */
export function autoPollDelayMs(pollNumber: number): number {
	return Math.min(1000 * 2 ** Math.floor(pollNumber / 3), 5000);
}

/** Backoff after the n-th transient poll failure in a row: 1, 2, 4, 8, 16, 30, 30… s. */
export function failedPollDelayMs(failuresInARow: number): number {
	return Math.min(1000 * 2 ** Math.max(0, failuresInARow - 1), 30_000);
}

/** A poll that may also be the last look after the Timeout still gets this long. */
const MIN_POLL_MS = 2_000;

export async function waitForTask(session: WanSession, taskId: string, options: WaitOptions): Promise<WaitOutcome> {
	const deadline = Date.now() + options.timeoutMs;
	// A fixed Poll Interval keeps its plain schedule; otherwise the execution's scheduler plans every poll.
	const scheduler = options.pollIntervalMs ? undefined : pollSchedulerFor(session);
	scheduler?.track(taskId, options.submittedAt);
	try {
		return await pollUntilDone(session, taskId, options, deadline, scheduler);
	} finally {
		scheduler?.forget(taskId);
	}
}

async function pollUntilDone(
	session: WanSession,
	taskId: string,
	options: WaitOptions,
	deadline: number,
	scheduler: PollScheduler | undefined,
): Promise<WaitOutcome> {
	const { signal, requestedImages } = options;
	let lastStatus: TaskStatus | undefined;
	let lastError: unknown;
	let failuresInARow = 0;
	let failedPolls = 0;
	const timeout = (): WaitOutcome => ({ kind: 'timeout', taskId, lastStatus, lastError, failedPolls, timeoutMs: options.timeoutMs });
	// A task just submitted is not done yet: the scheduler plans its first look instead of sending one now.
	let skipPoll = scheduler !== undefined && options.submittedAt !== undefined && deadline > Date.now();

	for (let poll = 0; ; poll++) {
		if (signal?.aborted) return { kind: 'aborted', taskId, lastStatus };
		let delay: number | undefined;
		if (!skipPoll) {
			try {
				await scheduler?.takeQuery(signal);
				const sentAt = Date.now();
				const snapshot = await session.getTask(taskId, { signal, deadline: Math.max(deadline, Date.now() + MIN_POLL_MS), requestedImages });
				scheduler?.observe(taskId, snapshot, sentAt);
				lastStatus = snapshot.status;
				lastError = undefined;
				failuresInARow = 0;
				if (snapshot.result) return { kind: 'finished', result: snapshot.result };
				delay = options.pollIntervalMs ? options.pollIntervalMs : undefined;
			} catch (error) {
				if (signal?.aborted) return { kind: 'aborted', taskId, lastStatus };
				if (!session.isTransient(error)) return { kind: 'failed', taskId, lastStatus, error };
				lastError = error;
				failedPolls++;
				delay = failedPollDelayMs(++failuresInARow);
			}
		}
		skipPoll = false;
		const remaining = deadline - Date.now();
		if (remaining <= 0) return timeout();
		try {
			if (delay !== undefined || !scheduler) await sleep(Math.min(delay ?? autoPollDelayMs(poll), remaining), signal);
			else await scheduler.waitTurn(taskId, deadline, signal);
		} catch {
			return { kind: 'aborted', taskId, lastStatus };
		}
		// If the Timeout passed during the sleep, the next poll is the last look: a task that finished
		// meanwhile is collected, not reported as timed out.
		if (Date.now() >= deadline) {
			try {
				const last = await session.getTask(taskId, { signal, deadline: Date.now() + MIN_POLL_MS, retry: { maxAttempts: 1 }, requestedImages });
				lastStatus = last.status;
				if (last.result) return { kind: 'finished', result: last.result };
			} catch (error) {
				if (signal?.aborted) return { kind: 'aborted', taskId, lastStatus };
				lastError = error;
				failedPolls++;
			}
			return timeout();
		}
	}
}
