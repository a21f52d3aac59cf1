/**
 * Public types of the DashScope emulator. Kept free of runtime imports so the HTTP control client
 * (client.ts) and other test code can depend on them cheaply.
 */

export type RegionId = 'ap-southeast-1' | 'cn-beijing' | 'us-east-1' | 'eu-central-1';

export const REGION_IDS: readonly RegionId[] = ['ap-southeast-1', 'cn-beijing', 'us-east-1', 'eu-central-1'];

export function isRegionId(value: unknown): value is RegionId {
	return typeof value === 'string' && (REGION_IDS as readonly string[]).includes(value);
}

/** Durations of the emulated work. `pendingMs`/`runningMs` apply to tasks submitted afterwards. */
export interface Timing {
	pendingMs: number;
	runningMs: number;
	syncDelayMs: number;
	/**
	 * How far the task list lags behind the tasks: it shows each task as it was this long ago (the real
	 * list's freshness is UNCONFIRMED; 0 = as fresh as a task query). Applies at once.
	 */
	listLagMs: number;
}

export const DEFAULT_TIMING: Timing = { pendingMs: 200, runningMs: 800, syncDelayMs: 300, listLagMs: 0 };

export type ConcurrencyPolicy = 'reject' | 'queue';

export interface EmulatorOptions {
	/** 0 = ephemeral (default). */
	port?: number;
	/** Default '127.0.0.1'. */
	host?: string;
	/** Region served at the un-prefixed /api/v1 (default 'ap-southeast-1'). */
	defaultRegion?: RegionId;
	timing?: Partial<Timing>;
	/** What a 6th concurrent task does: 'reject' (default, 429) or 'queue' (stays PENDING until a slot frees). */
	concurrencyPolicy?: ConcurrencyPolicy;
}

/** Kinds of requests the emulator records. 'upload-policy' is GET /uploads, 'upload' the OSS form POST. */
export type RequestKind =
	| 'submit'
	| 'sync'
	| 'query'
	| 'cancel'
	| 'list'
	| 'result'
	| 'upload-policy'
	| 'upload'
	| 'other';

/**
 * Which requests a fault rule applies to. 'any' (the default) matches every DashScope API request
 * (submit, sync, query, cancel, list, upload-policy) but NOT result downloads or OSS uploads, which
 * go to a different host in reality: target those with kind 'result' / 'upload' explicitly.
 */
export type FaultKind = 'submit' | 'sync' | 'query' | 'cancel' | 'list' | 'result' | 'upload-policy' | 'upload' | 'any';

export type FaultAction =
	/** Answer with this status before anything is created (no task for submits). */
	| { type: 'http'; status: number; code?: string; message?: string; retryAfterSeconds?: number }
	/** Destroy the socket without answering, before acceptance (no task created). */
	| { type: 'reset' }
	/** Submits/sync: the task IS created/processed, then the socket is destroyed without an answer. */
	| { type: 'reset-after-accept' }
	/** Submits/sync: the task IS created/processed, but the answer is replaced by this error. */
	| { type: 'http-after-accept'; status: number; code?: string; message?: string; retryAfterSeconds?: number }
	/** Respond normally after a delay. */
	| { type: 'delay'; ms: number }
	/** Next matching submitted task (or sync call) ends FAILED (default code InternalError.Algo). */
	| { type: 'fail-task'; code?: string; message?: string }
	/** Next matching task ends SUCCEEDED with `failed` of its images failed (all failed → FAILED). */
	| { type: 'partial'; failed: number; code?: string; message?: string }
	/** Content moderation: 400 at submit (stage 'submit', the default) or the task ends FAILED ('task'). */
	| { type: 'moderation'; code: 'DataInspectionFailed' | 'IPInfringementSuspect'; stage?: 'submit' | 'task' }
	/** Answer 200 with this body instead (e.g. an HTML page from a captive portal or CDN error page). */
	| { type: 'replace-body'; status?: number; contentType: string; body: string }
	/** The real answer's headers (full Content-Length) and its first `keepBytes` bytes, then the socket dies. */
	| { type: 'reset-mid-body'; keepBytes?: number }
	/** The real answer without Content-Length (chunked), cut after `keepBytes` bytes and ended cleanly. */
	| { type: 'truncate-body'; keepBytes?: number };

export interface FaultRule {
	match?: { kind?: FaultKind; model?: string; taskId?: string };
	/** How many matching requests the rule affects (default 1). */
	times?: number;
	action: FaultAction;
}

export interface Counters {
	/** Async tasks created (including 'reset-after-accept' / 'http-after-accept' ones). */
	submissions: number;
	/** Tasks created per API key. */
	submissionsByKey: Record<string, number>;
	/** Tasks created per model. */
	submissionsByModel: Record<string, number>;
	/** Async create requests received, whatever their outcome (extra; not in the original brief). */
	submitAttempts: number;
	/** GET /tasks/{id} requests received. */
	queries: number;
	/** POST /tasks/{id}/cancel requests received. */
	cancels: number;
	/** GET /tasks list requests received. */
	lists: number;
	/** Sync generation requests received, whatever their outcome. */
	syncCalls: number;
	/** Sync generations that produced an answer with images (extra). */
	syncAccepted: number;
	/** Result (PNG) download requests received. */
	resultDownloads: number;
	/** Requests answered with a status >= 400 or dropped by a reset fault. */
	rejected: number;
	/** Requests answered with 429 (subset of `rejected`). */
	throttled: number;
}

export interface RecordedRequest {
	kind: RequestKind;
	method: string;
	/** Path including the query string. */
	path: string;
	region?: RegionId;
	/** Lower-case header names; repeated headers joined with ', '. */
	headers: Record<string, string>;
	/** Parsed JSON body (full, data URIs included), the raw text if not JSON, undefined if empty. */
	body?: unknown;
	/** HTTP status answered; 0 when the socket was destroyed without an answer. */
	status: number;
	/** Parsed JSON answer (undefined for binary/XML answers). */
	responseBody?: unknown;
	/** Emulator clock (epoch ms) when the request arrived. */
	at: number;
}

export type TaskStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'UNKNOWN';

export interface EmulatedTaskSnapshot {
	taskId: string;
	/** 'async' = created via an async route; 'sync' = a sync call (never visible at /tasks). */
	mode: 'async' | 'sync';
	model: string;
	region: RegionId;
	apiKey: string;
	/** Status right now by the emulator clock (ignores the 24 h expiry; see `expired`). */
	status: TaskStatus;
	/** True when the task is older than 24 h (the API then reads UNKNOWN). */
	expired: boolean;
	submitTime: number;
	scheduledTime?: number;
	endTime?: number;
	canceledAt?: number;
	/** The request body as received. */
	request: unknown;
	/** Prompt as used (2.7 silently cuts at 5000 characters). */
	prompt: string;
	promptTruncated: boolean;
	/** Images requested (n, or max_images for 2.6 interleave). */
	requestedImages: number;
	/** Images produced when SUCCEEDED. */
	producedImages: number;
	failedImages: number;
	width: number;
	height: number;
	seed: number;
	/** Whether the seed was chosen by the emulator (request had none). */
	seedGenerated: boolean;
	inputImages: Array<{ source: 'data' | 'url' | 'oss'; format: string; width: number; height: number; bytes: number }>;
	/** Effective parameters after defaults. */
	params: Record<string, unknown>;
	/** Planned terminal outcome. */
	outcome: { status: 'SUCCEEDED' | 'FAILED'; code?: string; message?: string };
	/** Result URLs (only once SUCCEEDED). */
	resultUrls: string[];
}
