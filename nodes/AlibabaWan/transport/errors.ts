/**
 * DashScopeError: the one error type the transport throws, plus the mapping from HTTP answers and
 * network failures to it, human hints per DashScope code, and secret scrubbing.
 */
import type { DashScopeErrorFields } from './types';

/** n8n 2.41 `failure.cause` vocabulary (NodeApiError options). */
export type FailureCause =
	| 'rate-limited'
	| 'quota-exhausted'
	| 'temporarily-unavailable'
	| 'credential-invalid'
	| 'configuration-invalid';

export interface DashScopeErrorInit extends Omit<DashScopeErrorFields, 'retryable'> {
	retryable?: boolean;
	/** Server-suggested wait (Retry-After), ms. */
	retryAfterMs?: number;
	/** Low-level network code (ECONNRESET, UND_ERR_SOCKET...) when `code` is a transport code. */
	networkCode?: string;
	/** For submits: true when the request provably never reached the service in full. */
	notSent?: boolean;
	/** Which transport operation failed (submit, getTask, cancelTask, listTasks, download). */
	operation?: string;
}

const REDACTED = '[redacted]';

/** Replace every occurrence of each secret (and `Bearer <anything>`) in `text`. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
	let out = text;
	for (const secret of secrets) {
		if (!secret || secret.length < 4) continue;
		for (const variant of new Set([secret, encodeURIComponent(secret)])) {
			out = out.split(variant).join(REDACTED);
		}
	}
	return out.replace(/(Bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`);
}

/**
 * Scrubs `secrets` from every string reachable from `value`, in place (objects, arrays, errors' message,
 * stack and own fields). Returns the value (a string is returned scrubbed). The one pass every text that
 * reaches the user goes through (actions/router.ts), whatever the service or a library put in it.
 * `skip` names properties left alone (n8n's node definition, binary payloads).
 */
export function scrubDeep<T>(value: T, secrets: ReadonlyArray<string | undefined>, skip: ReadonlySet<string> = new Set()): T {
	const seen = new WeakSet<object>();
	const walk = (v: unknown, depth: number): unknown => {
		if (typeof v === 'string') return redact(v, secrets);
		if (!v || typeof v !== 'object' || depth > 12 || seen.has(v)) return v;
		seen.add(v);
		if (Array.isArray(v)) {
			for (let i = 0; i < v.length; i++) v[i] = walk(v[i], depth + 1);
			return v;
		}
		if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return v;
		const record = v as Record<string, unknown>;
		const keys = new Set(Object.keys(record));
		if (v instanceof Error) for (const k of ['message', 'stack', 'description', 'cause']) keys.add(k);
		for (const key of keys) {
			if (skip.has(key)) continue;
			const current = record[key];
			const next = walk(current, depth + 1);
			if (next !== current) {
				try {
					record[key] = next;
				} catch {
					// read-only property: nothing to do
				}
			}
		}
		return v;
	};
	return walk(value, 0) as T;
}

export class DashScopeError extends Error implements DashScopeErrorFields {
	code: string;
	requestId?: string;
	httpStatus?: number;
	hint?: string;
	retryable: boolean;
	taskMayExist?: boolean;
	taskId?: string;
	retryAfterMs?: number;
	networkCode?: string;
	notSent?: boolean;
	operation?: string;
	candidateTaskIds?: string[];

	constructor(init: DashScopeErrorInit) {
		super(init.message);
		this.name = 'DashScopeError';
		this.code = init.code;
		this.retryable = init.retryable ?? false;
		if (init.requestId) this.requestId = init.requestId;
		if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
		if (init.hint) this.hint = init.hint;
		if (init.taskMayExist !== undefined) this.taskMayExist = init.taskMayExist;
		if (init.taskId) this.taskId = init.taskId;
		if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
		if (init.networkCode) this.networkCode = init.networkCode;
		if (init.notSent !== undefined) this.notSent = init.notSent;
		if (init.operation) this.operation = init.operation;
		if (init.candidateTaskIds?.length) this.candidateTaskIds = [...init.candidateTaskIds];
	}

	/** A copy with every string field scrubbed of the given secrets (stack rebuilt from the clean message). */
	scrubbed(secrets: ReadonlyArray<string | undefined>): DashScopeError {
		const clean = (s: string | undefined) => (s === undefined ? undefined : redact(s, secrets));
		const copy = new DashScopeError({
			...this.fields(),
			code: clean(this.code) ?? 'Unknown',
			message: clean(this.message) ?? '',
			requestId: clean(this.requestId),
			hint: clean(this.hint),
			taskId: clean(this.taskId),
		});
		if (copy.stack) copy.stack = redact(copy.stack, secrets);
		return copy;
	}

	fields(): DashScopeErrorInit & { retryable: boolean } {
		return {
			code: this.code,
			message: this.message,
			requestId: this.requestId,
			httpStatus: this.httpStatus,
			hint: this.hint,
			retryable: this.retryable,
			taskMayExist: this.taskMayExist,
			taskId: this.taskId,
			retryAfterMs: this.retryAfterMs,
			networkCode: this.networkCode,
			notSent: this.notSent,
			operation: this.operation,
			candidateTaskIds: this.candidateTaskIds,
		};
	}

	toJSON(): Record<string, unknown> {
		const out: Record<string, unknown> = { name: this.name };
		for (const [k, v] of Object.entries(this.fields())) if (v !== undefined) out[k] = v;
		return out;
	}
}

export function isDashScopeError(error: unknown): error is DashScopeError {
	return error instanceof DashScopeError;
}

// ---------------------------------------------------------------------------------------------
// Classification

const QUOTA_CODES = new Set([
	'Throttling.AllocationQuota',
	'AllocationQuota.FreeTierOnly',
	'Arrearage',
	'CommodityNotPurchased',
	'PrepaidBillOverdue',
	'PostpaidBillOverdue',
	'AccessDenied.Unpurchased',
]);

/** Quota / billing problems: retrying cannot help. */
export function isQuotaCode(code: string | undefined, message?: string): boolean {
	if (code && QUOTA_CODES.has(code)) return true;
	return /free allocated quota exceeded|quota exceeded|arrearage|overdue/i.test(message ?? '');
}

/** A 429 that is a rate limit (wait and retry), not exhausted quota. */
export function isRateLimit(error: DashScopeError): boolean {
	if (isQuotaCode(error.code, error.message)) return false;
	return error.httpStatus === 429 || /^Throttling/.test(error.code) || error.code === 'LimitRequests';
}

export function failureCauseOf(error: DashScopeError): FailureCause | undefined {
	const { code, httpStatus } = error;
	if (isQuotaCode(code, error.message)) return 'quota-exhausted';
	if (isRateLimit(error)) return 'rate-limited';
	if (code === 'InvalidApiKey' || code === 'NOT AUTHORIZED' || httpStatus === 401) return 'credential-invalid';
	if (
		code === 'ModelNotFound' ||
		code === 'WorkSpaceNotFound' ||
		code === 'Model.AccessDenied' ||
		code === 'Workspace.AccessDenied' ||
		(code === 'AccessDenied' && /synchronous calls|asynchronous calls/i.test(error.message))
	) {
		return 'configuration-invalid';
	}
	if (code === 'ENOTFOUND') return 'configuration-invalid'; // wrong host / workspace ID
	if (code === 'ModelUnavailable' || code === 'ModelServingError' || (httpStatus !== undefined && httpStatus >= 500)) {
		return 'temporarily-unavailable';
	}
	// Network failures and timeouts (no HTTP answer).
	if (httpStatus === undefined && (error.networkCode !== undefined || code === 'Timeout')) return 'temporarily-unavailable';
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// Hints

export const TASK_MAY_EXIST_HINT =
	'The request reached DashScope but its answer was lost, so a task may have been created and will be billed. ' +
	'Check the tasks listed here (collect one with "Wait for Task") or the Model Studio console before running again, and do not use ' +
	'n8n\'s "Retry On Fail" for task creation: it would submit (and bill) the task again.';

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
		return 'DashScope rate limit reached (about 5 task submissions per second per account and model). Lower the node\'s Concurrency or spread the items out over time.';
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

// ---------------------------------------------------------------------------------------------
// From HTTP answers

function pickString(v: unknown): string | undefined {
	return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Build a DashScopeError from a non-2xx answer (JSON `{request_id, code, message}` or anything else). */
export function errorFromHttp(args: {
	status: number;
	statusText?: string;
	bodyText: string;
	contentType?: string;
	retryAfterMs?: number;
	operation?: string;
	taskId?: string;
}): DashScopeError {
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
	return new DashScopeError({
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

// ---------------------------------------------------------------------------------------------
// From network failures

/** Codes that mean the connection was never established, so nothing was sent. */
const NOT_CONNECTED_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'EADDRNOTAVAIL',
	'UND_ERR_CONNECT_TIMEOUT',
	'CERT_HAS_EXPIRED',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isNotConnectedCode(code: string | undefined): boolean {
	return !!code && NOT_CONNECTED_CODES.has(code);
}

/** The low-level code of a Node/undici error (digs into `cause` and AggregateError members). */
export function lowLevelCode(error: unknown, depth = 0): string | undefined {
	if (!error || typeof error !== 'object' || depth > 4) return undefined;
	const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
	if (Array.isArray(e.errors)) {
		for (const inner of e.errors) {
			const c = lowLevelCode(inner, depth + 1);
			if (c) return c;
		}
	}
	const nested = lowLevelCode(e.cause, depth + 1);
	if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
	return nested ?? (typeof e.code === 'string' ? e.code : undefined);
}

const NETWORK_MESSAGES: Record<string, string> = {
	ECONNREFUSED: 'Connection refused',
	ECONNRESET: 'Connection reset by the server',
	EPIPE: 'Connection closed while sending the request',
	ENOTFOUND: 'Host not found',
	EAI_AGAIN: 'Temporary DNS failure',
	ETIMEDOUT: 'Connection timed out',
	EHOSTUNREACH: 'Host unreachable',
	ENETUNREACH: 'Network unreachable',
	UND_ERR_CONNECT_TIMEOUT: 'Timed out connecting',
	UND_ERR_HEADERS_TIMEOUT: 'Timed out waiting for the response headers',
	UND_ERR_BODY_TIMEOUT: 'Timed out reading the response body',
	UND_ERR_SOCKET: 'The connection was closed unexpectedly',
	UND_ERR_CLOSED: 'The HTTP client was closed',
	UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'The request body length did not match its Content-Length',
};

/** Map a network-level failure (no HTTP answer) to a DashScopeError with a transport code. */
export function errorFromNetwork(error: unknown, args: { operation?: string; host?: string }): DashScopeError {
	const low = lowLevelCode(error) ?? 'NetworkError';
	let code = low;
	if (low === 'UND_ERR_HEADERS_TIMEOUT' || low === 'UND_ERR_BODY_TIMEOUT' || low === 'UND_ERR_CONNECT_TIMEOUT' || low === 'ETIMEDOUT') {
		code = 'Timeout';
	} else if (low === 'UND_ERR_SOCKET') {
		code = 'ECONNRESET';
	}
	const what = NETWORK_MESSAGES[low] ?? `Network error (${low})`;
	// Never copy the raw error text blindly: undici errors may describe sockets/headers. Use our own words
	// plus the low-level code.
	const where = args.host ? ` (${args.host})` : '';
	return new DashScopeError({
		code,
		networkCode: low,
		message: `${what}${where}`,
		hint: hintFor(code, ''),
		operation: args.operation,
		retryable: false,
	});
}

export function abortedError(operation?: string): DashScopeError {
	return new DashScopeError({
		code: 'Aborted',
		message: 'The request was aborted because the execution was cancelled',
		hint: hintFor('Aborted', ''),
		operation,
		retryable: false,
	});
}

export function timeoutError(timeoutMs: number, operation?: string): DashScopeError {
	return new DashScopeError({
		code: 'Timeout',
		networkCode: 'TIMEOUT',
		message: `DashScope did not complete the request within ${Math.round(timeoutMs / 100) / 10} s`,
		hint: hintFor('Timeout', ''),
		operation,
		retryable: false,
	});
}
