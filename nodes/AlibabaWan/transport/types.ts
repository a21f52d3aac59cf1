/**
 * The generic HTTP layer's shapes, shared by every service (services/*): request bodies, call
 * options, retries, downloads and the one API error's fields. Each service's wire shapes live in its folder.
 */

/**
 * A JSON request body whose Base64 image payloads are streamed from n8n's binary store instead of
 * concatenated in memory. `open()` may be called more than once (a provably-safe retry re-sends it).
 */
export interface StreamingJsonBody {
	readonly kind: 'streaming-json';
	/** Exact byte length of what `open()` yields, so the request carries Content-Length. */
	readonly contentLength: number;
	open(): AsyncIterable<Uint8Array>;
	/** The body as JSON with every streamed image replaced by a short placeholder (for logs/tests). */
	preview(): unknown;
}

export type RequestBody = Record<string, unknown> | StreamingJsonBody;

export interface CallOptions {
	/** n8n's execution cancel signal: aborts in-flight requests and backoff sleeps. */
	signal?: AbortSignal;
	/** Whole-request timeout in ms (headers + body), per attempt. */
	timeoutMs?: number;
	/** Retry tuning; defaults: 6 attempts, 500 ms base, 10 s cap, full jitter (transport/retry.ts). */
	retry?: RetryOptions;
	/** Called before each backoff sleep (for logging); receives a key-free error summary. */
	onRetry?: (event: RetryEvent) => void;
	/**
	 * Epoch ms after which no attempt starts and no retry waits (the item's Timeout). Each attempt's own
	 * timeout is cut to what is left. Rate-limit 429s are then retried until the deadline, however long
	 * their Retry-After, instead of a fixed number of times.
	 */
	deadline?: number;
}

export interface RetryOptions {
	/** Total attempts including the first (1 = never retry). */
	maxAttempts?: number;
	baseDelayMs?: number;
	maxDelayMs?: number;
	/** Longest Retry-After the transport will sleep; a longer one surfaces the error instead. */
	maxRetryAfterMs?: number;
}

export interface RetryEvent {
	operation: string;
	/** The attempt that just failed (1-based). */
	attempt: number;
	delayMs: number;
	error: ApiErrorFields;
	/**
	 * The refused submit was a probe for a running-task slot another client might have freed
	 * (transport/runningSlots.ts): its 429 is expected while the account is full, not a sign that this
	 * caller takes more than its share. (A refused refill of a slot our own task freed is such a sign:
	 * another client competes for our slots.)
	 */
	slotProbe?: boolean;
}

export type TaskStatus = 'PENDING' | 'RUNNING' | 'SUSPENDED' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'UNKNOWN';

export interface DownloadedResult {
	/** Streamed body: hand it to n8n's prepareBinaryData without buffering. */
	body: AsyncIterable<Uint8Array> & NodeJS.ReadableStream;
	contentType?: string;
	contentLength?: number;
	/** The caller has stored the bytes: a service holding its own copy (an inline image) may let go of it now. */
	stored?(): void;
}

/**
 * Every transport failure. `taskMayExist` tells callers whether a create could have produced a
 * (billable) task: only `false` makes a re-submit safe.
 */
export interface ApiErrorFields {
	/** The service's error `code` (e.g. InvalidParameter), or a transport code (ECONNRESET, Timeout, Aborted). */
	code: string;
	message: string;
	requestId?: string;
	httpStatus?: number;
	/** A human hint: wrong region for key, missing async header, moderation, quota... */
	hint?: string;
	retryable: boolean;
	taskMayExist?: boolean;
	taskId?: string;
	/** A submit whose answer was lost: tasks the list showed that may be this one (never resubmitted). */
	candidateTaskIds?: string[];
}

/** A non-2xx answer as read off the wire, for a service to turn into its ApiError. */
export interface ErrorAnswer {
	status: number;
	statusText?: string;
	bodyText: string;
	contentType?: string;
	retryAfterMs?: number;
	operation?: string;
	taskId?: string;
}
