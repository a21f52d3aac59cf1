/* eslint-disable @n8n/community-nodes/require-node-api-error -- TaskWaitError and transport errors are
   turned into NodeOperationError/NodeApiError (with the task ID) by actions/taskRunner.ts */

/**
 * Polls one task until it is terminal, the timeout passes, or the execution is cancelled.
 * Transient poll failures are retried inside the transport; this loop owns only the schedule.
 */
import { getTask, sleep, type DashScopeEndpoint, type TaskResponse, type TaskStatus } from '../transport';
import { terminalStatuses } from './taskResults';

export interface WaitOptions {
	signal?: AbortSignal;
	timeoutMs: number;
	/** Fixed poll interval; 0 or undefined = the SDKs' schedule 1,1,2,2,2,4,4,4,5… s. */
	pollIntervalMs?: number;
}

/** Why waiting stopped without a terminal status; the task may still run (and be billed). */
export class TaskWaitError extends Error {
	constructor(
		readonly reason: 'timeout' | 'aborted',
		readonly taskId: string,
		readonly lastStatus: TaskStatus | undefined,
		message: string,
	) {
		super(message);
		this.name = 'TaskWaitError';
	}
}

/** The official SDKs' schedule: start at 1 s, double after every third poll, cap at 5 s. */
export function autoPollDelayMs(pollNumber: number): number {
	return Math.min(1000 * 2 ** Math.floor(pollNumber / 3), 5000);
}

export async function waitForTask(
	endpoint: DashScopeEndpoint,
	taskId: string,
	options: WaitOptions,
): Promise<TaskResponse> {
	const deadline = Date.now() + options.timeoutMs;
	let lastStatus: TaskStatus | undefined;
	for (let poll = 0; ; poll++) {
		if (options.signal?.aborted) throw aborted(taskId, lastStatus);
		let response: TaskResponse;
		try {
			response = await getTask(endpoint, taskId, {
				signal: options.signal,
				timeoutMs: Math.max(1000, Math.min(30_000, deadline - Date.now())),
			});
		} catch (error) {
			if (options.signal?.aborted) throw aborted(taskId, lastStatus);
			throw error;
		}
		lastStatus = response.output.task_status;
		if (terminalStatuses.has(lastStatus)) return response;

		const delay = options.pollIntervalMs ? options.pollIntervalMs : autoPollDelayMs(poll);
		const remaining = deadline - Date.now();
		if (remaining <= 0) throw timedOut(taskId, lastStatus, options.timeoutMs);
		try {
			await sleep(Math.min(delay, remaining), options.signal);
		} catch {
			throw aborted(taskId, lastStatus);
		}
		if (Date.now() >= deadline) {
			// One last look, so a task that finished during the final sleep is not reported as timed out.
			const last = await getTask(endpoint, taskId, { signal: options.signal });
			if (terminalStatuses.has(last.output.task_status)) return last;
			throw timedOut(taskId, last.output.task_status, options.timeoutMs);
		}
	}
}

function timedOut(taskId: string, status: TaskStatus | undefined, timeoutMs: number): TaskWaitError {
	return new TaskWaitError(
		'timeout',
		taskId,
		status,
		`Task ${taskId} was still ${status ?? 'unfinished'} after ${Math.round(timeoutMs / 1000)} s`,
	);
}

function aborted(taskId: string, status: TaskStatus | undefined): TaskWaitError {
	return new TaskWaitError(
		'aborted',
		taskId,
		status,
		`The execution was cancelled while task ${taskId} was ${status ?? 'being submitted'}`,
	);
}
