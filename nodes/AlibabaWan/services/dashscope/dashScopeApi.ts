/**
 * DashScope calls: submit (create a billable async task), query, cancel, list, and result download.
 * Each call is run by the shared call runner (transport/callRunner.ts: paced, retried where safe,
 * deadlines); here are DashScope's paths, headers, answer schemas, task-list reconciliation for
 * ambiguous submits, and the key scrub before anything throws.
 */
import { z } from 'zod';
import { ERROR_BODY_LIMIT, runCall, type ServiceProfile } from '../../transport/callRunner';
import { ApiError } from '../../transport/errors';
import { USER_AGENT, checkBaseUrl, checkedApiKey, downloadResultUrl, parseJson, scrubbing, usageError } from '../../transport/serviceCalls';
import { readText } from '../../transport/httpClient';
import type { SendResult } from '../../transport/httpClient';
import { getLimiter } from '../../transport/rateLimit';
import { runningSlots, taskEnded, taskStarted } from '../../transport/runningSlots';
import { terminalStatuses } from '../../tasks/taskResults';
import { sleep } from '../../transport/retry';
import { TASK_MAY_EXIST_HINT, errorFromHttp, hintFor, isRunningTaskLimit } from './errors';
import { claimTask, reconcileSubmit, trackAttempt, bucketKey } from './reconcile';
import {
	cancelResponseSchema,
	describeZodError,
	listResponseSchema,
	submitResponseSchema,
	taskResponseSchema,
} from './schemas';
import type { CallOptions, DownloadedResult, RequestBody, StreamingJsonBody, TaskStatus } from '../../transport/types';
import type {
	CancelResult,
	DashScopeEndpoint,
	ListTasksQuery,
	ListTasksResult,
	SubmitResult,
	SubmitRoute,
	TaskListEntry,
	TaskResponse,
} from './types';

/** Per-attempt deadlines, ms (CallOptions.timeoutMs overrides). */
export const DEFAULT_TIMEOUTS = {
	submit: 120_000,
	query: 30_000,
	cancel: 30_000,
	list: 30_000,
	download: 300_000,
} as const;

export const SUBMIT_PATHS: Record<SubmitRoute, string> = {
	'image-generation': '/services/aigc/image-generation/generation',
	'image-synthesis': '/services/aigc/image2image/image-synthesis',
};


/** DashScope to the shared call runner: its name, its error answers and hints. */
const DASHSCOPE: ServiceProfile = {
	name: 'DashScope',
	errorFromAnswer: errorFromHttp,
	hintFor: (error) => hintFor(error.code, error.message, error.httpStatus),
	taskMayExistHint: TASK_MAY_EXIST_HINT,
};

type Operation = 'submitTask' | 'getTask' | 'cancelTask' | 'listTasks' | 'downloadResult';
// ---------------------------------------------------------------------------------------------
// Public API

export async function submitTask(
	endpoint: DashScopeEndpoint,
	route: SubmitRoute,
	body: RequestBody,
	opts: CallOptions & { model?: string } = {},
): Promise<SubmitResult> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, DASHSCOPE.name, async () => {
		const baseUrl = checkBaseUrl(endpoint.baseUrl, 'The DashScope base URL');
		const path = SUBMIT_PATHS[route];
		if (!path) throw usageError(`Unknown submit route "${String(route)}"`);
		const streaming = isStreamingBody(body);
		const preview = streaming ? body.preview() : body;
		const headers: Record<string, string> = {
			...baseHeaders(apiKey),
			'content-type': 'application/json',
			'x-dashscope-async': 'enable',
		};
		if (containsOssUrl(preview)) headers['x-dashscope-ossresourceresolve'] = 'enable';
		const model = opts.model ?? (preview as { model?: unknown } | undefined)?.model;
		const key = bucketKey(baseUrl, apiKey, typeof model === 'string' ? model : '');
		// The 5-running-tasks limit is per account and model (DASHSCOPE_API.md §7).
		const slots = runningSlots(key);
		return runCall<SubmitResult, TaskListEntry>({
			service: DASHSCOPE,
			operation: 'submitTask',
			mode: 'create',
			method: 'POST',
			url: baseUrl + path,
			headers,
			body: streaming ? body : JSON.stringify(body),
			limiter: getLimiter('submit', baseUrl, apiKey),
			slots: { gate: slots, isSlotRefusal: isRunningTaskLimit },
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.submit,
			opts,
			secret: apiKey,
			decorate: (error) => {
				if (typeof model === 'string' && (error.code === 'ModelNotFound' || error.code === 'Model.AccessDenied')) {
					error.hint = `${error.hint ?? ''} (model "${model}")`.trim();
				}
			},
			submit: {
				track: (attempt) => trackAttempt(key, attempt),
				reconcile: (error, attemptStartedAt) =>
					reconcileSubmit({
						key,
						model: typeof model === 'string' ? model : '',
						attemptStartedAt,
						requestId: error.requestId,
						// Free and read-only; own short budget, not the (maybe aborted) execution signal.
						list: (query) => listTasks(endpoint, query, { timeoutMs: 10_000, retry: { maxAttempts: 3 } }),
						sleep: (ms, signal) => sleep(ms, signal),
					}),
			},
			adopt: (task, how) => {
				claimTask(key, task.task_id);
				if (!terminalStatuses.has(task.status as TaskStatus)) taskStarted(slots, task.task_id);
				return {
					taskId: task.task_id,
					taskStatus: (task.status ?? 'PENDING') as TaskStatus,
					requestId: task.request_id ?? '',
					adopted: how,
				};
			},
			onSuccess: async (res) => {
				const json = await readJson(res, 'submitTask');
				const parsed = submitResponseSchema.safeParse(json);
				if (!parsed.success) {
					const explicit = explicitError(json, res.statusCode, 'submitTask');
					if (explicit) throw explicit;
					throw invalidResponse('submitTask', json, parsed.error);
				}
				claimTask(key, parsed.data.output.task_id);
				taskStarted(slots, parsed.data.output.task_id);
				return {
					taskId: parsed.data.output.task_id,
					taskStatus: (parsed.data.output.task_status ?? 'PENDING') as TaskStatus,
					requestId: parsed.data.request_id ?? '',
				};
			},
		});
	});
}

export async function getTask(endpoint: DashScopeEndpoint, taskId: string, opts: CallOptions = {}): Promise<TaskResponse> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, DASHSCOPE.name, async () => {
		const baseUrl = checkBaseUrl(endpoint.baseUrl, 'The DashScope base URL');
		const id = checkTaskId(taskId);
		return runCall<TaskResponse>({
			service: DASHSCOPE,
			operation: 'getTask',
			mode: 'read',
			method: 'GET',
			url: `${baseUrl}/tasks/${encodeURIComponent(id)}`,
			headers: baseHeaders(apiKey),
			limiter: getLimiter('query', baseUrl, apiKey),
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.query,
			opts,
			secret: apiKey,
			taskId: id,
			onSuccess: async (res) => {
				const task = normalizeTask(await readJson(res, 'getTask', id), id);
				if (terminalStatuses.has(task.output.task_status)) taskEnded(id);
				return task;
			},
		});
	});
}

export async function cancelTask(endpoint: DashScopeEndpoint, taskId: string, opts: CallOptions = {}): Promise<CancelResult> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, DASHSCOPE.name, async () => {
		const baseUrl = checkBaseUrl(endpoint.baseUrl, 'The DashScope base URL');
		const id = checkTaskId(taskId);
		return runCall<CancelResult>({
			service: DASHSCOPE,
			operation: 'cancelTask',
			mode: 'read', // cancelling twice is harmless
			method: 'POST',
			url: `${baseUrl}/tasks/${encodeURIComponent(id)}/cancel`,
			headers: baseHeaders(apiKey),
			limiter: getLimiter('query', baseUrl, apiKey),
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.cancel,
			opts,
			secret: apiKey,
			taskId: id,
			onSuccess: async (res) => {
				const text = await readText(res.body, ERROR_BODY_LIMIT);
				// A cancelled task no longer holds a running slot.
				if (text.trim() === '') {
					taskEnded(id);
					return { requestId: '' };
				}
				const json = parseJsonText(text, 'cancelTask', id);
				const parsed = cancelResponseSchema.safeParse(json);
				if (!parsed.success) throw invalidResponse('cancelTask', json, parsed.error, id);
				taskEnded(id);
				return { requestId: parsed.data.request_id ?? '' };
			},
		});
	});
}

export async function listTasks(
	endpoint: DashScopeEndpoint,
	query: ListTasksQuery = {},
	opts: CallOptions = {},
): Promise<ListTasksResult> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, DASHSCOPE.name, async () => {
		const baseUrl = checkBaseUrl(endpoint.baseUrl, 'The DashScope base URL');
		const params = new URLSearchParams();
		params.set('page_no', String(positiveInt(query.pageNo ?? 1, 'pageNo')));
		params.set('page_size', String(positiveInt(query.pageSize ?? 10, 'pageSize')));
		const optional: Array<[keyof ListTasksQuery, string]> = [
			['startTime', 'start_time'],
			['endTime', 'end_time'],
			['modelName', 'model_name'],
			['apiKeyId', 'api_key_id'],
			['region', 'region'],
			['status', 'status'],
		];
		for (const [from, to] of optional) {
			const v = query[from];
			if (v !== undefined && v !== null && String(v) !== '') params.set(to, String(v));
		}
		return runCall<ListTasksResult>({
			service: DASHSCOPE,
			operation: 'listTasks',
			mode: 'read',
			method: 'GET',
			url: `${baseUrl}/tasks?${params.toString()}`,
			headers: baseHeaders(apiKey),
			limiter: getLimiter('query', baseUrl, apiKey),
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.list,
			opts,
			secret: apiKey,
			onSuccess: async (res) => {
				const json = await readJson(res, 'listTasks');
				const parsed = listResponseSchema.safeParse(json);
				if (!parsed.success) throw invalidResponse('listTasks', json, parsed.error);
				const d = parsed.data;
				// A task of ours the list shows ended frees its running slot (runningSlots.ts).
				for (const task of d.data ?? []) if (terminalStatuses.has(task.status as TaskStatus)) taskEnded(task.task_id);
				return {
					requestId: d.request_id ?? '',
					tasks: (d.data ?? []) as ListTasksResult['tasks'],
					total: d.total,
					totalPage: d.total_page,
					pageNo: d.page_no,
					pageSize: d.page_size,
				};
			},
		});
	});
}

/** Stream a signed result URL (no Authorization header; see transport/serviceCalls.ts). */
export async function downloadResult(url: string, opts: CallOptions = {}): Promise<DownloadedResult> {
	return downloadResultUrl(url, opts, DASHSCOPE, {
		expiredHint:
			'The result URL was refused or has expired: DashScope result URLs are valid for 24 hours after the task finished. Query the task again within that window, or re-run it.',
		timeoutMs: DEFAULT_TIMEOUTS.download,
	});
}

// ---------------------------------------------------------------------------------------------
// Responses

async function readJson(res: SendResult, operation: Operation, taskId?: string): Promise<unknown> {
	const text = await readText(res.body);
	return parseJsonText(text, operation, taskId);
}

function parseJsonText(text: string, operation: Operation, taskId?: string): unknown {
	const parsed = parseJson(text);
	if (parsed.ok) return parsed.value;
	const snippet = text.replace(/\s+/g, ' ').slice(0, 200);
	throw new ApiError({
		code: 'InvalidResponse',
		message: `DashScope answered ${operation} with a body that is not JSON: ${snippet || '(empty)'}`,
		hint: 'DashScope answered with an unexpected response shape (a proxy or gateway in between?).',
		operation,
		taskId,
		retryable: false,
	});
}


function invalidResponse(operation: Operation, json: unknown, error: z.ZodError, taskId?: string): ApiError {
	const requestId = typeof json === 'object' && json !== null ? (json as { request_id?: unknown }).request_id : undefined;
	return new ApiError({
		code: 'InvalidResponse',
		message: `DashScope answered ${operation} with an unexpected shape (${describeZodError(error)})`,
		hint: 'DashScope answered with an unexpected response shape.',
		requestId: typeof requestId === 'string' ? requestId : undefined,
		operation,
		taskId,
		retryable: false,
	});
}

/** A 2xx body that is really an error (`{request_id, code, message}` without output). */
function explicitError(json: unknown, status: number, operation: Operation): ApiError | undefined {
	if (typeof json !== 'object' || json === null) return undefined;
	const body = json as Record<string, unknown>;
	if (typeof body.code !== 'string' || body.code === '' || body.output) return undefined;
	const error = errorFromHttp({ status, bodyText: JSON.stringify(body), operation });
	error.taskMayExist = false;
	return error;
}

/** Validate a task GET body and fold both FAILED conventions into one shape. */
function normalizeTask(json: unknown, taskId: string): TaskResponse {
	if (typeof json === 'object' && json !== null) {
		const body = json as Record<string, unknown>;
		// D27: failure reported at top level with no output at all.
		if ((body.output === undefined || body.output === null) && typeof body.code === 'string' && body.code) {
			body.output = { task_id: taskId, task_status: 'FAILED', code: body.code, message: body.message };
		}
	}
	const parsed = taskResponseSchema.safeParse(json);
	if (!parsed.success || !parsed.data.output) {
		throw invalidResponse(
			'getTask',
			json,
			parsed.success ? new z.ZodError([{ code: 'custom', path: ['output'], message: 'Required' }]) : parsed.error,
			taskId,
		);
	}
	const data = parsed.data;
	const output = data.output!;
	if (!output.task_id) output.task_id = taskId;
	if (output.task_status === 'FAILED') {
		if (!output.code && data.code) output.code = data.code;
		if (!output.message && data.message) output.message = data.message;
		if (!data.code && output.code) data.code = output.code;
		if (!data.message && output.message) data.message = output.message;
	}
	return { ...data, request_id: data.request_id ?? '', output } as unknown as TaskResponse;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function baseHeaders(apiKey: string): Record<string, string> {
	return { authorization: `Bearer ${apiKey}`, accept: 'application/json', 'user-agent': USER_AGENT };
}

function cleanKey(endpoint: DashScopeEndpoint): string {
	return checkedApiKey(endpoint?.apiKey, 'InvalidApiKey', {
		missing: 'Enter the DashScope API key (it starts with "sk-") in the credential.',
		malformed: 'Copy the key again from the Model Studio console.',
	});
}


function checkTaskId(taskId: string): string {
	const id = typeof taskId === 'string' ? taskId.trim() : '';
	if (!id) throw usageError('A task ID is required');
	// "." and ".." are dot segments: a URL would resolve them to another endpoint of the same host.
	if (id.length > 200 || /[\s/?#\\%]/.test(id) || /^\.{1,2}$/.test(id)) {
		throw usageError(`"${id.slice(0, 60)}" is not a valid task ID`);
	}
	return id;
}

function positiveInt(value: number, name: string): number {
	if (!Number.isInteger(value) || value < 1) throw usageError(`${name} must be a positive integer`);
	return value;
}


export function isStreamingBody(body: RequestBody): body is StreamingJsonBody {
	return (body as { kind?: unknown })?.kind === 'streaming-json' && typeof (body as StreamingJsonBody).open === 'function';
}

/** Whether any string in the (preview of the) body is an `oss://` reference. */
export function containsOssUrl(value: unknown, depth = 0): boolean {
	if (depth > 20) return false;
	if (typeof value === 'string') return value.startsWith('oss://');
	if (Array.isArray(value)) return value.some((v) => containsOssUrl(v, depth + 1));
	if (value && typeof value === 'object') return Object.values(value).some((v) => containsOssUrl(v, depth + 1));
	return false;
}
