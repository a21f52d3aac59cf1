/**
 * Turn API errors into n8n errors: NodeApiError with the service's code/message, a description
 * carrying the hint, request id and task id, `httpCode`, and `failure` (cause + retryAfterMs).
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode, JsonObject } from 'n8n-workflow';
import { ApiError, failureCauseOf, redact } from './errors';

type Failure = NonNullable<NodeApiError['failure']>;

export interface NodeErrorContext {
	itemIndex?: number;
	taskId?: string;
}

/**
 * Where the machine-readable details sit in `error.context`. The name predates other services and is
 * kept so workflows reading `context.dashScope` keep working.
 */
export const ERROR_DETAILS_KEY = 'dashScope';

/** The machine-readable part a continueOnFail item can show (`error.context[ERROR_DETAILS_KEY]`, `errorResponse`). */
export function apiErrorDetails(error: ApiError, taskId?: string): JsonObject {
	const details: JsonObject = { code: error.code, message: error.message, retryable: error.retryable };
	if (error.requestId) details.request_id = error.requestId;
	const id = taskId ?? error.taskId;
	if (id) details.task_id = id;
	if (error.httpStatus !== undefined) details.http_status = error.httpStatus;
	if (error.taskMayExist !== undefined) details.task_may_exist = error.taskMayExist;
	if (error.retryAfterMs !== undefined) details.retry_after_ms = error.retryAfterMs;
	if (error.hint) details.hint = error.hint;
	return details;
}

export function toNodeApiError(
	node: INode,
	error: unknown,
	context: NodeErrorContext = {},
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (!(error instanceof ApiError)) {
		const message = redact(error instanceof Error ? error.message : String(error));
		return new NodeOperationError(node, message, { itemIndex: context.itemIndex });
	}

	const taskId = context.taskId ?? error.taskId;
	const message = `${error.service ?? 'API'} ${error.code}: ${error.message}`;
	const lines: string[] = [];
	if (error.hint) lines.push(error.hint);
	const ids: string[] = [];
	if (error.httpStatus !== undefined) ids.push(`HTTP ${error.httpStatus}`);
	ids.push(`code ${error.code}`);
	if (error.requestId) ids.push(`request ID ${error.requestId}`);
	if (taskId) ids.push(`task ID ${taskId}`);
	lines.push(ids.join(' · '));
	const description = lines.join('\n');

	const cause = failureCauseOf(error);
	let failure: Failure | undefined;
	if (cause === 'rate-limited' || cause === 'quota-exhausted' || cause === 'temporarily-unavailable') {
		failure = error.retryAfterMs !== undefined ? { cause, retryAfterMs: error.retryAfterMs } : { cause };
	} else if (cause) {
		failure = { cause };
	}

	const details = apiErrorDetails(error, taskId);
	const apiError = new NodeApiError(node, details, {
		message,
		description,
		httpCode: error.httpStatus !== undefined ? String(error.httpStatus) : undefined,
		itemIndex: context.itemIndex,
		failure,
	});
	// NodeApiError swaps messages containing common codes (ECONNRESET…) for generic text, and guesses
	// httpCode from `code` when none is given: keep ours.
	apiError.message = message;
	apiError.description = description;
	apiError.httpCode = error.httpStatus !== undefined ? String(error.httpStatus) : null;
	apiError.context[ERROR_DETAILS_KEY] = details;
	if (taskId) apiError.context.taskId = taskId;
	if (error.requestId) apiError.context.requestId = error.requestId;
	apiError.context.code = error.code;
	if (apiError.stack) apiError.stack = `${apiError.name}: ${message}\n${apiError.stack.split('\n').slice(1).join('\n')}`;
	return apiError;
}
