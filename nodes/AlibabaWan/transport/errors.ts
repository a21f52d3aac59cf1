/**
 * ApiError: the one error type every service's client throws, the mapping from network failures to
 * it, failure classification and secret scrubbing. Each service turns its own error answers into
 * ApiErrors and adds its hints (services/<id>/errors.ts).
 */
import type { ApiErrorFields } from './types';

/** n8n 2.41 `failure.cause` vocabulary (NodeApiError options). */
export type FailureCause =
	| 'rate-limited'
	| 'quota-exhausted'
	| 'temporarily-unavailable'
	| 'credential-invalid'
	| 'configuration-invalid';

export interface ApiErrorInit extends Omit<ApiErrorFields, 'retryable'> {
	retryable?: boolean;
	/** Server-suggested wait (Retry-After), ms. */
	retryAfterMs?: number;
	/** Low-level network code (ECONNRESET, UND_ERR_SOCKET...) when `code` is a transport code. */
	networkCode?: string;
	/** For submits: true when the request provably never reached the service in full. */
	notSent?: boolean;
	/** Which transport operation failed (submit, getTask, cancelTask, listTasks, download). */
	operation?: string;
	/** The service that answered or was asked, named in the n8n error ("DashScope InvalidApiKey: …"). */
	service?: string;
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

export class ApiError extends Error implements ApiErrorFields {
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
	service?: string;

	constructor(init: ApiErrorInit) {
		super(init.message);
		this.name = 'ApiError';
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
		if (init.service) this.service = init.service;
	}

	/** A copy with every string field scrubbed of the given secrets (stack rebuilt from the clean message). */
	scrubbed(secrets: ReadonlyArray<string | undefined>): ApiError {
		const clean = (s: string | undefined) => (s === undefined ? undefined : redact(s, secrets));
		const copy = new ApiError({
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

	fields(): ApiErrorInit & { retryable: boolean } {
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
			service: this.service,
		};
	}

	toJSON(): Record<string, unknown> {
		const out: Record<string, unknown> = { name: this.name };
		for (const [k, v] of Object.entries(this.fields())) if (v !== undefined) out[k] = v;
		return out;
	}
}

export function isApiError(error: unknown): error is ApiError {
	return error instanceof ApiError;
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
export function isRateLimit(error: ApiError): boolean {
	if (isQuotaCode(error.code, error.message)) return false;
	return error.httpStatus === 429 || /^Throttling/.test(error.code) || error.code === 'LimitRequests';
}

export function failureCauseOf(error: ApiError): FailureCause | undefined {
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

/** Map a network-level failure (no HTTP answer) to a ApiError with a transport code. */
export function errorFromNetwork(error: unknown, args: { operation?: string; host?: string }): ApiError {
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
	return new ApiError({
		code,
		networkCode: low,
		message: `${what}${where}`,
		operation: args.operation,
		retryable: false,
	});
}

export function abortedError(operation?: string): ApiError {
	return new ApiError({
		code: 'Aborted',
		message: 'The request was aborted because the execution was cancelled',
		hint: 'The execution was cancelled.',
		operation,
		retryable: false,
	});
}

/** `service` names who did not answer, e.g. "DashScope". */
export function timeoutError(timeoutMs: number, operation?: string, service = 'The service'): ApiError {
	return new ApiError({
		code: 'Timeout',
		networkCode: 'TIMEOUT',
		message: `${service} did not complete the request within ${Math.round(timeoutMs / 100) / 10} s`,
		operation,
		retryable: false,
	});
}
