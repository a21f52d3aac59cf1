/**
 * Shared by every operation that waits: poll a task, turn its outcome into items or a clear error.
 * Image operations call it right after submitting; Wait for Task calls it with given IDs.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { runOptionRanges, taskValidityMs } from '../catalog/modelCatalog';
import type { RegionId } from '../catalog/regions';
import {
	defaultFileNameTemplate,
	fileNameTemplateProblem,
	resultToItems,
	type OutputSettings,
	type TaskContext,
} from '../output/binaryItems';
import { parseTaskResult } from '../tasks/taskResults';
import { TaskWaitError, waitForTask } from '../tasks/waitForTask';
import { cancelTask, DashScopeError, getTask, hintFor, toNodeApiError, type DashScopeEndpoint } from '../transport';
import { fieldFailure, readOptions, toBoolean, toChoice, toNumber, toText } from './parameterReaders';

/** Per-execution facts every operation needs. */
export interface RunEnvironment {
	endpoint: DashScopeEndpoint;
	region: RegionId;
	signal?: AbortSignal;
}

export interface WaitSettings {
	timeoutMs: number;
	pollIntervalMs: number;
	cancelPending: boolean;
}

/** Reads and checks the wait options of an item; invalid values are refused before anything is sent. */
export function readWaitSettings(ctx: IExecuteFunctions, itemIndex: number): WaitSettings {
	const options = readOptions(ctx, itemIndex);
	const fail = fieldFailure(ctx, itemIndex);
	const seconds = (key: 'timeoutSeconds' | 'pollIntervalSeconds', label: string, fallback: number) => {
		const rule = { ...runOptionRanges[key], unit: 'seconds' };
		if (!(key in options)) return fallback;
		const value = toNumber(options[key], `Options › ${label}`, fail, rule);
		return value ?? fail(`Options › ${label} is empty: enter ${rule.min} to ${rule.max} seconds, or remove the option`);
	};
	return {
		timeoutMs: seconds('timeoutSeconds', 'Timeout (Seconds)', 900) * 1000,
		pollIntervalMs: seconds('pollIntervalSeconds', 'Poll Interval (Seconds)', 0) * 1000,
		cancelPending: toBoolean(options.cancelPending, 'Options › Cancel Pending Task on Stop or Timeout', fail) ?? false,
	};
}

/** Reads and checks the output settings of an item (file-name template, binary field). */
export function readOutputSettings(ctx: IExecuteFunctions, itemIndex: number): OutputSettings {
	const options = readOptions(ctx, itemIndex);
	const fail = fieldFailure(ctx, itemIndex);
	const fileNameTemplate = toText(options.fileNameTemplate, 'Options › File Name', fail).trim() || defaultFileNameTemplate;
	const problem = fileNameTemplateProblem(fileNameTemplate);
	if (problem) fail(`Options › File Name ${problem}`);
	return {
		format: toChoice(ctx.getNodeParameter('outputFormat', itemIndex, 'binary'), 'Output', ['binary', 'url'] as const, 'binary', fail),
		items: toChoice(ctx.getNodeParameter('outputItems', itemIndex, 'perImage'), 'Output Items', ['perImage', 'perTask'] as const, 'perImage', fail),
		fileNameTemplate,
		binaryPropertyName: toText(options.outputBinaryPropertyName, 'Options › Output Binary Field', fail).trim() || 'data',
	};
}

/** Items in flight at once (the run option of item 1, as the whole run uses one value). */
export function readConcurrency(ctx: IExecuteFunctions): number {
	const options = readOptions(ctx, 0);
	const rule = runOptionRanges.concurrency;
	return toNumber(options.concurrency, 'Options › Concurrency', fieldFailure(ctx, 0), { ...rule, integer: true }) ?? 5;
}

/** What a submit-only run returns: enough to collect the result later, anywhere. */
export function submittedTaskJson(taskId: string, context: TaskContext, requestId: string, status: string): IDataObject {
	const submittedAt = context.submittedAt ?? new Date().toISOString();
	const json: IDataObject = {
		taskId,
		status,
		operation: context.operation,
		model: context.model,
		region: context.region,
		prompt: context.prompt,
		seed: context.seed,
		requestedSize: context.requestedSize,
		requestedImages: context.requestedImages,
		requestId,
		submittedAt,
		expiresAt: new Date(Date.parse(submittedAt) + taskValidityMs).toISOString(),
	};
	return Object.fromEntries(Object.entries(json).filter(([, value]) => value !== undefined)) as IDataObject;
}

/**
 * What a "Submit Only" item says about its task, so "Wait for Task" outputs what a waiting run would
 * (model, prompt, seed, file names with {{model}}…). Used only when the item's taskId is the ID collected.
 */
export function contextFromSubmittedItem(json: IDataObject, taskId: string, region: string): TaskContext | undefined {
	if (json.taskId !== taskId) return undefined;
	const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
	return {
		operation: text(json.operation) ?? 'waitForTask',
		model: text(json.model),
		region,
		prompt: typeof json.prompt === 'string' ? json.prompt : undefined,
		seed: typeof json.seed === 'number' ? json.seed : undefined,
		requestedSize: text(json.requestedSize),
		requestedImages: typeof json.requestedImages === 'number' ? json.requestedImages : undefined,
		submittedAt: text(json.submittedAt),
	};
}

/**
 * Waits for `taskId` and emits its images. Every failure names the task ID; a timeout or a stopped
 * execution says whether the task is still running, and can cancel it while it is still queued.
 */
export async function collectTask(
	ctx: IExecuteFunctions,
	env: RunEnvironment,
	taskId: string,
	context: TaskContext,
	wait: WaitSettings,
	output: OutputSettings,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const started = Date.now();
	let response;
	try {
		response = await waitForTask(env.endpoint, taskId, {
			signal: env.signal,
			timeoutMs: wait.timeoutMs,
			pollIntervalMs: wait.pollIntervalMs,
		});
	} catch (error) {
		if (error instanceof TaskWaitError) throw await waitStopped(ctx, env, error, wait, itemIndex);
		throw toNodeApiError(ctx.getNode(), withTaskId(error, taskId), { itemIndex, taskId });
	}

	const result = parseTaskResult(response, context.requestedImages);
	if (result.status !== 'SUCCEEDED') {
		const explanation: Record<string, string> = {
			FAILED: 'The task failed',
			CANCELED: 'The task was cancelled',
			UNKNOWN: 'DashScope does not know this task: task IDs expire after 24 hours, or the ID is wrong or from another region',
		};
		const code = result.code ?? (result.status === 'UNKNOWN' ? 'TaskUnknown' : `Task${result.status}`);
		throw toNodeApiError(
			ctx.getNode(),
			new DashScopeError({
				code,
				message: `${explanation[result.status] ?? `The task ended ${result.status}`}${result.message ? `: ${result.message}` : ''}`,
				requestId: result.requestId,
				taskId,
				hint:
					hintFor(code, result.message ?? '') ??
					(result.status === 'FAILED' ? 'Failed tasks are not billed. Check the inputs, or submit again.' : undefined),
				retryable: false,
			}),
			{ itemIndex, taskId },
		);
	}

	try {
		return await resultToItems(ctx, result, { ...context, waitedMs: Date.now() - started }, output, itemIndex, env.signal);
	} catch (error) {
		throw toNodeApiError(ctx.getNode(), withTaskId(error, taskId), { itemIndex, taskId });
	}
}

function withTaskId(error: unknown, taskId: string): unknown {
	if (error instanceof DashScopeError && !error.taskId) error.taskId = taskId;
	return error;
}

async function waitStopped(
	ctx: IExecuteFunctions,
	env: RunEnvironment,
	error: TaskWaitError,
	wait: WaitSettings,
	itemIndex: number,
): Promise<NodeOperationError> {
	let status = error.lastStatus;
	let cancelled = false;
	if (wait.cancelPending) {
		// The execution signal may already be aborted: cancel with a short budget of our own.
		try {
			const current = await getTask(env.endpoint, error.taskId, { timeoutMs: 10_000, retry: { maxAttempts: 2 } });
			status = current.output.task_status;
			if (status === 'PENDING') {
				await cancelTask(env.endpoint, error.taskId, { timeoutMs: 10_000, retry: { maxAttempts: 2 } });
				cancelled = true;
				status = 'CANCELED';
			}
		} catch {
			// Reported below as "may still be running".
		}
	}
	const fate = cancelled
		? 'It was still queued, so it was cancelled (not billed).'
		: status === 'PENDING' || status === 'RUNNING' || status === undefined
			? `It is still ${status ?? 'running'} and will be billed if it succeeds: collect it within 24 hours with "Wait for Task" and task ID ${error.taskId}.`
			: `It is now ${status}.`;
	const nodeError = new NodeOperationError(ctx.getNode(), `${error.message}. ${fate}`, {
		itemIndex,
		description: `Task ID ${error.taskId}`,
	});
	nodeError.context.taskId = error.taskId;
	nodeError.context.taskStatus = status;
	return nodeError;
}
