/**
 * DashScope's error answers → ApiError, and a human hint per DashScope code (DASHSCOPE_API.md §8).
 */
import { ApiError, isQuotaCode } from '../../transport/errors';
import type { ErrorAnswer } from '../../transport/types';

export const TASK_MAY_EXIST_HINT =
	'The request reached DashScope but its answer was lost, so a task may have been created and will be billed. ' +
	'Check the tasks listed here (collect one with "Wait for Task") or the Model Studio console before running again, and do not use ' +
	'n8n\'s "Retry On Fail" for task creation: it would submit (and bill) the task again.';

/** DashScope's codes for too many requests per second or minute (DASHSCOPE_API.md §8). */
const REQUEST_RATE_CODES = new Set(['Throttling.RateQuota', 'Throttling.BurstRate', 'LimitRequests']);

/**
 * A 429 on a submit that is not a request-rate code: taken as the running-task limit (5 per account and
 * model). Which code DashScope sends for that limit is UNCONFIRMED; a rate code sent for it is met as a
 * rate limit (paced and paused), which is slower but as safe.
 */
export function isRunningTaskLimit(error: ApiError): boolean {
	return error.httpStatus === 429 && !REQUEST_RATE_CODES.has(error.code) && !isQuotaCode(error.code, error.message);
}

export function hintFor(code: string, message: string, httpStatus?: number): string | undefined {
	const m = message ?? '';
	if (code === 'InvalidApiKey' || code === 'NOT AUTHORIZED' || httpStatus === 401) {
		return (
			'DashScope rejected the API key. A key only works in the region where it was created: check the ' +
			"credential's region (or Base URL / Workspace ID) matches the key, and that the key was copied in full."
		);
	}
	if (code === 'AccessDenied' && /does not support synchronous calls/i.test(m)) {
		return 'This model only runs as an asynchronous task: the request must carry the "X-DashScope-Async: enable" header.';
	}
	if (code === 'AccessDenied' && /asynchronous calls/i.test(m)) {
		return 'This endpoint does not accept asynchronous calls: the "X-DashScope-Async" header must not be sent here.';
	}
	if (code === 'DataInspectionFailed') {
		return 'Content moderation flagged the prompt or one of the input images (or the generated output). Rephrase the prompt or use different images.';
	}
	if (code === 'IPInfringementSuspect') {
		return 'DashScope suspects intellectual-property infringement. Edit the prompt, or turn prompt rewriting (prompt_extend) off.';
	}
	if (isQuotaCode(code, m)) {
		return 'Quota or billing problem on the Alibaba Cloud account (free quota used up, overdue bill or model not purchased). Retrying will not help: top up or purchase the model in the Model Studio console.';
	}
	if (code.startsWith('Throttling') || code === 'LimitRequests' || httpStatus === 429) {
		return 'DashScope limit reached (5 running tasks and about 5 task submissions per second per account and model, shared with other workflows or workers on the same key). Lower the node\'s Concurrency or spread the items out over time.';
	}
	if (code === 'ModelNotFound' || code === 'WorkSpaceNotFound' || code === 'Model.AccessDenied' || code === 'Workspace.AccessDenied') {
		return 'The model or workspace is not available here: check the model name, and that the credential\'s region / Workspace ID offers this model (wan2.7 and wan2.5 run in Beijing and Singapore only).';
	}
	if (code.startsWith('InvalidURL') || code === 'InvalidParameter.DataInspection' || code === 'BadRequest.InputDownloadFailed') {
		return 'DashScope could not download an input image URL (unreachable, slow or cross-border). Send the image as binary data instead, or host it somewhere DashScope can reach.';
	}
	if (code === 'BadRequest.TooLarge' || httpStatus === 413) {
		return 'The request body is too large. Send fewer or smaller images, or pass large images as URLs instead of binary data.';
	}
	if (code === 'InternalError.Timeout') {
		return 'The task produced no result within DashScope\'s time limit. Submit it again later.';
	}
	if (code === 'ModelUnavailable' || code === 'ModelServingError') {
		return 'The model is temporarily out of capacity. Try again in a little while.';
	}
	if (code === 'Timeout') {
		return 'DashScope did not answer in time. Increase the timeout or try again later.';
	}
	if (code === 'Aborted') {
		return 'The execution was cancelled.';
	}
	if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'NetworkError' || code === 'ECONNRESET') {
		return 'Could not reach DashScope. Check the network, proxy settings (HTTP_PROXY / HTTPS_PROXY / NO_PROXY) and the credential\'s Base URL.';
	}
	if (code === 'InvalidResponse') {
		return 'DashScope answered with an unexpected response shape.';
	}
	return undefined;
}

function pickString(v: unknown): string | undefined {
	return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Build an ApiError from a non-2xx answer (JSON `{request_id, code, message}` or anything else). */
export function errorFromHttp(args: ErrorAnswer): ApiError {
	const { status, bodyText } = args;
	let code: string | undefined;
	let message: string | undefined;
	let requestId: string | undefined;
	let parsedJson = false;
	const trimmed = bodyText.trim();
	if (trimmed.startsWith('{')) {
		try {
			const parsed = JSON.parse(trimmed) as Record<string, unknown>;
			if (parsed && typeof parsed === 'object') {
				parsedJson = true;
				code = pickString(parsed.code);
				message = pickString(parsed.message) ?? pickString(parsed.msg);
				requestId = pickString(parsed.request_id) ?? pickString(parsed.requestId);
			}
		} catch {
			// not JSON after all
		}
	} else if (trimmed.startsWith('<')) {
		// OSS (result downloads) answers XML: <Error><Code>AccessDenied</Code><Message>…</Message>
		code = /<Code>([^<]{1,100})<\/Code>/.exec(trimmed)?.[1];
		message = /<Message>([^<]{1,300})<\/Message>/.exec(trimmed)?.[1];
		requestId = /<RequestId>([^<]{1,100})<\/RequestId>/.exec(trimmed)?.[1];
	}
	const statusText = args.statusText || defaultStatusText(status);
	if (!code) code = 'Unknown';
	if (!message) {
		const snippet = parsedJson ? '' : trimmed.replace(/\s+/g, ' ').slice(0, 200);
		message = snippet ? `${status} ${statusText}: ${snippet}` : `${status} ${statusText}`;
	}
	return new ApiError({
		code,
		message,
		requestId,
		httpStatus: status,
		hint: hintFor(code, message, status),
		retryAfterMs: args.retryAfterMs,
		operation: args.operation,
		taskId: args.taskId,
		retryable: false,
	});
}

function defaultStatusText(status: number): string {
	const known: Record<number, string> = {
		400: 'Bad Request',
		401: 'Unauthorized',
		403: 'Forbidden',
		404: 'Not Found',
		408: 'Request Timeout',
		413: 'Payload Too Large',
		429: 'Too Many Requests',
		500: 'Internal Server Error',
		502: 'Bad Gateway',
		503: 'Service Unavailable',
		504: 'Gateway Timeout',
	};
	return known[status] ?? 'HTTP error';
}
