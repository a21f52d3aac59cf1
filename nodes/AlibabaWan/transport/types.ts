/**
 * The contract between the node and the only code that talks HTTP to DashScope.
 * Everything above the transport deals in these shapes; everything below is undici.
 */

/** Where to send a request and with which key. The key never leaves the transport. */
export interface DashScopeEndpoint {
	/** `.../api/v1`, no trailing slash (see catalog/regions.ts resolveBaseUrl). */
	baseUrl: string;
	apiKey: string;
}

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

/** The two async create routes. */
export type SubmitRoute =
	| 'image-generation' // POST /services/aigc/image-generation/generation (2.7, 2.6)
	| 'image-synthesis'; // POST /services/aigc/image2image/image-synthesis (2.5)

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
	error: DashScopeErrorFields;
}

export type TaskStatus = 'PENDING' | 'RUNNING' | 'SUSPENDED' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'UNKNOWN';

export interface SubmitResult {
	taskId: string;
	taskStatus: TaskStatus;
	requestId: string;
	/** Set when the answer was lost and the task was found in the task list instead (see reconcile.ts). */
	adopted?: 'request-id' | 'only-candidate';
}

/** `GET /tasks/{id}` body (zod-validated; unknown keys kept). */
export interface TaskResponse {
	request_id: string;
	output: {
		task_id: string;
		task_status: TaskStatus;
		submit_time?: string;
		scheduled_time?: string;
		end_time?: string;
		finished?: boolean;
		code?: string;
		message?: string;
		/** 2.7 / 2.6 (messages protocol) */
		choices?: Array<{
			finish_reason?: string;
			message?: { role?: string; content?: Array<{ type?: string; image?: string; text?: string }> };
		}>;
		/** 2.5 (image-synthesis protocol); failed entries carry code/message instead of url */
		results?: Array<{ url?: string; orig_prompt?: string; actual_prompt?: string; code?: string; message?: string }>;
		task_metrics?: { TOTAL?: number; SUCCEEDED?: number; FAILED?: number };
		[key: string]: unknown;
	};
	usage?: { image_count?: number; size?: string; [key: string]: unknown };
	/** D27 shows FAILED details at top level too. */
	code?: string;
	message?: string;
}

export interface CancelResult {
	requestId: string;
}

export interface DownloadedResult {
	/** Streamed body: hand it to n8n's prepareBinaryData without buffering. */
	body: AsyncIterable<Uint8Array> & NodeJS.ReadableStream;
	contentType?: string;
	contentLength?: number;
}

/**
 * Every transport failure. `taskMayExist` tells callers whether a create could have produced a
 * (billable) task: only `false` makes a re-submit safe.
 */
export interface DashScopeErrorFields {
	/** DashScope `code` (e.g. InvalidParameter), or a transport code (ECONNRESET, Timeout, Aborted). */
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

/** `GET /tasks` filters (DashScope names in snake_case on the wire). Times are `YYYYMMDDhhmmss`. */
export interface ListTasksQuery {
	pageNo?: number;
	pageSize?: number;
	startTime?: string;
	endTime?: string;
	modelName?: string;
	status?: TaskStatus;
	apiKeyId?: string;
	region?: string;
}

export interface TaskListEntry {
	task_id: string;
	status?: string;
	model_name?: string;
	region?: string;
	request_id?: string;
	gmt_create?: string;
	start_time?: string;
	end_time?: string;
	[key: string]: unknown;
}

export interface ListTasksResult {
	requestId: string;
	tasks: TaskListEntry[];
	total?: number;
	totalPage?: number;
	pageNo?: number;
	pageSize?: number;
}
