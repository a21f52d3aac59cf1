/**
 * Shared by every operation that waits: poll a task, turn its outcome into items or a clear error.
 * Image operations call it right after submitting; Wait for Task calls it with given IDs.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { runOptionRanges } from '../catalog/modelCatalog';
import {
	defaultFileNameTemplate,
	fileNameTemplateProblem,
	resultToItems,
	type OutputSettings,
	type TaskContext,
} from '../output/binaryItems';
import type { WanSession } from '../services';
import { validityText, type TaskResult } from '../tasks/taskResults';
import { waitForTask, type WaitOutcome } from '../tasks/waitForTask';
import type { TaskLedger } from './taskLedger';
import { ApiError, toNodeApiError } from '../transport';
import { fieldFailure, readOptions, toBoolean, toChoice, toNumber, toText } from './parameterReaders';

/** Per-execution facts every operation needs. */
export interface RunEnvironment {
	/** The chosen service with the run's credential: every request goes through it. */
	session: WanSession;
	signal?: AbortSignal;
	/** Every task this execution created or collected, with its state (reported when anything fails). */
	ledger: TaskLedger;
	/** A warning for n8n's log (scrubbed of the key before it is written). */
	log(message: string): void;
	/**
	 * Called once the item's task has succeeded (before its images are downloaded): frees its place for the
	 * next item. Set for the operations that create one task per item; Wait for Task keeps its place.
	 */
	taskEnded?(): void;
	/** Called when the service answered this item's submit with a rate limit (429): fewer tasks at once for a while. */
	submitThrottled?(): void;
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
export function submittedTaskJson(
	taskId: string,
	context: TaskContext,
	requestId: string | undefined,
	status: string,
	taskValidityMs: number,
): IDataObject {
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
 * (model, prompt, seed, file names with {model}…). Used only when the item's taskId is the ID collected.
 */
export function contextFromSubmittedItem(json: IDataObject, taskId: string, region: string | undefined): TaskContext | undefined {
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
 * Waits for `taskId` and emits its images. Every failure names the task ID and says whether the task is
 * still running and how to collect it; the execution's ledger follows the task's state throughout.
 * `deadline` (epoch ms) bounds the wait when the item's Timeout also covered its submit; `submittedAt`
 * (epoch ms) is set when this execution just created the task.
 */
export async function collectTask(
	ctx: IExecuteFunctions,
	env: RunEnvironment,
	taskId: string,
	context: TaskContext,
	wait: WaitSettings,
	output: OutputSettings,
	itemIndex: number,
	deadline?: number,
	submittedAt?: number,
): Promise<INodeExecutionData[]> {
	const started = Date.now();
	env.ledger.record(taskId, itemIndex, 'running');
	const outcome = await waitForTask(env.session, taskId, {
		signal: env.signal,
		timeoutMs: deadline !== undefined ? Math.max(0, deadline - started) : wait.timeoutMs,
		pollIntervalMs: wait.pollIntervalMs,
		requestedImages: context.requestedImages,
		submittedAt,
	});
	if (outcome.kind === 'timeout' || outcome.kind === 'aborted') throw await waitStopped(ctx, env, outcome, wait, itemIndex);
	if (outcome.kind === 'failed') {
		env.ledger.record(taskId, itemIndex, 'unknown', 'its status could not be read');
		const error = withTaskId(outcome.error, taskId);
		if (error instanceof ApiError) {
			// The wait ended, the task did not: the message itself says so.
			error.message = `${error.message} (task ${taskId} may still be running: collect it with "Wait for Task")`;
			error.hint =
				`${error.hint ? `${error.hint} ` : ''}Task ${taskId} may still be running and will be billed if it succeeds: ` +
				`once this is fixed, collect it with "Wait for Task" and task ID ${taskId} within ${validityText(env.session.service.taskValidityMs)}.`;
		}
		throw toNodeApiError(ctx.getNode(), error, { itemIndex, taskId });
	}

	return await emitResult(ctx, env, taskId, outcome.result, context, output, itemIndex, started);
}

/**
 * A finished task (polled, or answered at once by a synchronous service) → items, or the error of a
 * task that did not succeed. The ledger follows: emitted, failed, or uncollected.
 */
export async function emitResult(
	ctx: IExecuteFunctions,
	env: RunEnvironment,
	taskId: string,
	result: TaskResult,
	context: TaskContext,
	output: OutputSettings,
	itemIndex: number,
	started: number,
): Promise<INodeExecutionData[]> {
	if (result.status !== 'SUCCEEDED') {
		const explanation: Record<string, string> = {
			FAILED: 'The task failed',
			CANCELED: 'The task was cancelled',
			UNKNOWN: env.session.texts.unknownTask,
		};
		env.ledger.record(taskId, itemIndex, result.status === 'FAILED' ? 'failed' : result.status === 'CANCELED' ? 'canceled' : 'unknown', result.code);
		const code = result.code ?? (result.status === 'UNKNOWN' ? 'TaskUnknown' : `Task${result.status}`);
		throw toNodeApiError(
			ctx.getNode(),
			new ApiError({
				code,
				message: `${explanation[result.status] ?? `The task ended ${result.status}`}${result.message ? `: ${result.message}` : ''}`,
				requestId: result.requestId,
				taskId,
				service: env.session.service.shortName,
				hint:
					env.session.hintFor(code, result.message ?? '') ??
					(result.status === 'FAILED' ? 'Failed tasks are not billed. Check the inputs, or submit again.' : undefined),
				retryable: false,
			}),
			{ itemIndex, taskId },
		);
	}

	// Its place goes to the next item while the images download (a failed task keeps it until its error
	// is recorded, so no new task starts after a failure).
	env.taskEnded?.();
	const collectable = !env.session.service.refusedOperations?.waitForTask;
	let lostDetail: string | undefined;
	try {
		const items = await resultToItems(ctx, result, { ...context, waitedMs: Date.now() - started }, output, itemIndex, {
			download: (url, options) => env.session.downloadResult(url, options),
			signal: env.signal,
			collectable,
			onImagesLost: (lost) => {
				lostDetail = `image ${lost.map((failed) => (failed.url ? `${failed.index} (${failed.url})` : `${failed.index} (sent inline, lost)`)).join(', ')} could not be stored`;
			},
		});
		env.ledger.record(taskId, itemIndex, 'emitted', lostDetail);
		return items;
	} catch (error) {
		env.ledger.record(taskId, itemIndex, 'uncollected', collectable ? `its images could not be downloaded (result URLs valid until ${result.urlsExpireAt})` : uncollectedUrls(result));
		throw toNodeApiError(ctx.getNode(), withTaskId(error, taskId), { itemIndex, taskId });
	}
}

/** A result nothing can collect again: every URL it returned, for the user to fetch by hand. */
function uncollectedUrls(result: TaskResult): string | undefined {
	const urls = result.images.filter((image) => !image.inline).map((image) => image.url);
	const inline = result.images.length - urls.length;
	const parts = [
		urls.length ? `download its images by hand before ${result.urlsExpireAt}: ${urls.join(' ')}` : '',
		inline ? `${inline} image${inline === 1 ? '' : 's'} sent inline in the answer could not be stored and cannot be fetched again` : '',
	];
	return parts.filter(Boolean).join('; ') || undefined;
}

function withTaskId(error: unknown, taskId: string): unknown {
	if (error instanceof ApiError && !error.taskId) error.taskId = taskId;
	return error;
}

async function waitStopped(
	ctx: IExecuteFunctions,
	env: RunEnvironment,
	outcome: Extract<WaitOutcome, { kind: 'timeout' | 'aborted' }>,
	wait: WaitSettings,
	itemIndex: number,
): Promise<NodeOperationError> {
	const taskId = outcome.taskId;
	let status = outcome.lastStatus;
	let cancelled = false;
	if (wait.cancelPending) {
		// The execution signal may already be aborted: cancel with a short budget of our own.
		try {
			const current = await env.session.getTask(taskId, { timeoutMs: 10_000, retry: { maxAttempts: 2 } });
			status = current.status;
			if (env.session.cancellableStatuses.includes(status)) {
				await env.session.cancelTask(taskId, { timeoutMs: 10_000, retry: { maxAttempts: 2 } });
				cancelled = true;
				status = 'CANCELED';
			}
		} catch {
			// Reported below as "may still be running".
		}
	}
	const stillRunning = !cancelled && (status === 'PENDING' || status === 'RUNNING' || status === 'SUSPENDED' || status === undefined);
	env.ledger.record(taskId, itemIndex, cancelled ? 'canceled' : stillRunning ? 'running' : 'unknown', status && !stillRunning ? `now ${status}` : undefined);
	const what =
		outcome.kind === 'timeout'
			? `Task ${taskId} was still ${status ?? 'unfinished'} after ${Math.round(outcome.timeoutMs / 1000)} s`
			: `The execution was cancelled while task ${taskId} was ${status ?? 'being submitted'}`;
	const polls =
		outcome.kind === 'timeout' && outcome.failedPolls > 0
			? ` (${outcome.failedPolls} status check${outcome.failedPolls === 1 ? '' : 's'} failed${
					outcome.lastError instanceof Error ? `, the last with: ${outcome.lastError.message}` : ''
				})`
			: '';
	const fate = cancelled
		? 'It was still queued, so it was cancelled (not billed).'
		: stillRunning
			? `It is still ${status ?? 'running'} and will be billed if it succeeds: collect it within ${validityText(env.session.service.taskValidityMs)} with "Wait for Task" and task ID ${taskId}.`
			: `It is now ${status}: collect or check it with "Wait for Task" and task ID ${taskId}.`;
	const nodeError = new NodeOperationError(ctx.getNode(), `${what}${polls}. ${fate}`, {
		itemIndex,
		description: `Task ID ${taskId}`,
	});
	nodeError.context.taskId = taskId;
	nodeError.context.taskStatus = status;
	return nodeError;
}
