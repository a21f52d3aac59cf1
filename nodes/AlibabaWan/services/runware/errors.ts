/**
 * Runware's error answers → ApiError, and a human hint per Runware code (RUNWARE_API.md §7). Errors come
 * as `{data, errors: [{code, message, parameter, taskUUID…}]}` (also with HTTP 200), sometimes as
 * `{error: {code, message}, taskUUID}`, or as a bare status (a 401 without body, an HTML 502).
 */
import { ApiError } from '../../transport/errors';
import type { ErrorAnswer } from '../../transport/types';

export const TASK_MAY_EXIST_HINT =
	'The request reached Runware but its answer was lost, so the task may have been created and will be billed. ' +
	'Collect it with "Wait for Task" and its taskUUID before running again, and do not use n8n\'s "Retry On Fail" for task creation: ' +
	'it would submit (and bill) a new task.';

/** One entry of Runware's `errors` array (every field optional: the format is "still being standardised"). */
export interface RunwareErrorItem {
	code?: string;
	message?: string;
	parameter?: string | string[];
	taskUUID?: string;
	taskType?: string;
	min?: number;
	max?: number;
	multiplier?: number;
}

export function hintFor(code: string, message: string, httpStatus?: number): string | undefined {
	if (code === 'invalidApiKey' || httpStatus === 401) {
		return 'Runware rejected the API key: check the key in the "Runware API" credential (and its Base URL, if set).';
	}
	if (code === 'insufficientCredits' || httpStatus === 402) {
		return 'The Runware account has no credit left. Retrying will not help: top up the balance in the Runware dashboard.';
	}
	if (code === 'forbidden' || code === 'insufficientPermissions' || httpStatus === 403) {
		return "This Runware key may not use this model or call: check the key's permissions in the Runware dashboard.";
	}
	if (code === 'rateLimitExceeded' || httpStatus === 429) {
		return "Runware's queue for this model is full. Lower the node's Concurrency, or run the items later.";
	}
	if (code === 'contentPolicyViolation' || code === 'providerContentPolicyViolation') {
		return 'The prompt or an input image was refused by the content policy: rephrase the prompt or use other images.';
	}
	if (code === 'failedTaskTimeout' || httpStatus === 504) {
		return 'Runware gave up waiting for the provider. Submit the task again later.';
	}
	if (
		['timeoutProvider', 'providerError', 'providerUnavailable', 'serverUnavailable'].includes(code) ||
		(httpStatus !== undefined && httpStatus >= 500)
	) {
		return 'Runware or its provider failed or is out of capacity. Try again in a little while.';
	}
	if (code === 'taskFailedOrNotFound') {
		return `Runware does not know this taskUUID (wrong ID, another key's task, or too old): ${message}`;
	}
	if (code.startsWith('invalid') || code.startsWith('missing') || code === 'unsupportedParameter') {
		return 'Runware refused a field of the request: see the message for the field and its limits.';
	}
	if (code === 'Timeout') return 'Runware did not answer in time. Increase the Timeout or try again later.';
	if (code === 'Aborted') return 'The execution was cancelled.';
	if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'NetworkError', 'ECONNRESET'].includes(code)) {
		return "Could not reach Runware. Check the network, proxy settings (HTTP_PROXY / HTTPS_PROXY / NO_PROXY) and the credential's Base URL.";
	}
	if (code === 'InvalidResponse') return 'Runware answered with an unexpected response shape (a proxy in between?).';
	return undefined;
}

/** `{errors: [...]}`, `{error: {...}}` or nothing from a parsed body. */
export function errorItemsOf(json: unknown): RunwareErrorItem[] {
	if (!json || typeof json !== 'object') return [];
	const body = json as { errors?: unknown; error?: unknown; taskUUID?: unknown };
	if (Array.isArray(body.errors)) return body.errors.filter((entry): entry is RunwareErrorItem => Boolean(entry) && typeof entry === 'object');
	if (body.error && typeof body.error === 'object') {
		return [{ ...(body.error as RunwareErrorItem), ...(typeof body.taskUUID === 'string' ? { taskUUID: body.taskUUID } : {}) }];
	}
	return [];
}

/** One error item → an ApiError ("Runware invalidWidth: Invalid value for 'width' … (width: 768 to 2048, multiple of 16)"). */
export function errorFromItem(item: RunwareErrorItem, status: number, operation?: string, retryAfterMs?: number): ApiError {
	const code = typeof item.code === 'string' && item.code ? item.code : 'Unknown';
	const limits =
		item.min !== undefined || item.max !== undefined
			? ` (${[item.parameter].flat().join(', ')}: ${item.min ?? '…'} to ${item.max ?? '…'}${item.multiplier && item.multiplier > 1 ? `, a multiple of ${item.multiplier}` : ''})`
			: '';
	const message = `${typeof item.message === 'string' && item.message ? item.message : `${status} error`}${limits}`;
	return new ApiError({
		code,
		message,
		httpStatus: status,
		hint: hintFor(code, message, status),
		retryAfterMs,
		operation,
		taskId: item.taskUUID,
		retryable: false,
	});
}

/** A non-2xx answer → ApiError (the first error item, or the status and a snippet of the body). */
export function errorFromAnswer(answer: ErrorAnswer): ApiError {
	const text = answer.bodyText.trim();
	let json: unknown;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	const [first] = errorItemsOf(json);
	if (first) return errorFromItem(first, answer.status, answer.operation, answer.retryAfterMs);
	const snippet = json === undefined ? text.replace(/\s+/g, ' ').slice(0, 200) : '';
	const code = answer.status === 401 ? 'invalidApiKey' : `HTTP${answer.status}`;
	const message = `${answer.status} ${answer.statusText ?? ''}`.trim() + (snippet ? `: ${snippet}` : '');
	return new ApiError({
		code,
		message,
		httpStatus: answer.status,
		hint: hintFor(code, message, answer.status),
		retryAfterMs: answer.retryAfterMs,
		operation: answer.operation,
		taskId: answer.taskId,
		retryable: false,
	});
}
