/**
 * Public types of the Runware emulator (no runtime imports, so the control client and tests can
 * depend on them cheaply).
 */

/**
 * Emulated work, in milliseconds of the emulator clock. An async task's result i (0-based) turns
 * `success` at `submit + queueMs + (i + 1) * perImageMs`; a sync call holds its answer `syncDelayMs`.
 */
export interface RunwareTiming {
	queueMs: number;
	perImageMs: number;
	syncDelayMs: number;
}

export const DEFAULT_RUNWARE_TIMING: RunwareTiming = { queueMs: 200, perImageMs: 300, syncDelayMs: 300 };

export interface RunwareEmulatorOptions {
	/** 0 = ephemeral (default). */
	port?: number;
	/** Default '127.0.0.1'. */
	host?: string;
	/** API path (default '/v1'): the emulator answers `POST {basePath}`. */
	basePath?: string;
	/** Accepted API keys (default RUNWARE_EMULATOR_KEYS). */
	keys?: string[];
	timing?: Partial<RunwareTiming>;
	/** Async tasks of one key that may be unfinished at once before 429 rateLimitExceeded (default: no limit). */
	queueCapacity?: number;
	/** Max prompt length for the Pro model (default 3000, UNCONFIRMED; the standard model has 5000). */
	proPromptMax?: number;
	/** URL lifetime when no `ttl` is sent, seconds (default 86400, UNCONFIRMED). */
	defaultUrlTtlSeconds?: number;
}

/** What a POST carries, by its tasks: any imageInference → 'inference'; else any getResponse → 'poll'; else 'auth'. */
export type RunwareRequestKind = 'inference' | 'poll' | 'auth' | 'result' | 'other';

/** 'any' = every POST to the API (inference, poll, auth), not result downloads. */
export type RunwareFaultKind = RunwareRequestKind | 'any';

export type RunwareFaultAction =
	/** Arrival: answer `status` with a Runware error body (`emptyBody`: no body at all); nothing is created. */
	| { type: 'http'; status: number; code?: string; message?: string; emptyBody?: boolean }
	/** Arrival: socket destroyed without an answer; nothing is created. */
	| { type: 'reset' }
	/** Arrival: the normal answer after `ms` (real time). */
	| { type: 'delay'; ms: number }
	/**
	 * Arrival (getResponse): the answer lists only finished generations (`success`/`error`) and leaves out
	 * those still running — the shape of the Python SDK's polling mocks (`{"data": []}` while a task runs),
	 * which RUNWARE_API.md §5/§6 do not rule out.
	 */
	| { type: 'finished-only' }
	/** Arrival: this answer instead (e.g. an HTML page at a result URL, a non-JSON 502). */
	| { type: 'replace-body'; status?: number; contentType: string; body: string }
	/** Accept (imageInference): the task IS created, then the socket is destroyed. */
	| { type: 'reset-after-accept' }
	/** Accept (imageInference): the task IS created, the answer is this error. */
	| { type: 'http-after-accept'; status: number; code?: string; message?: string }
	/** Accept: every result of the task fails (`topLevel`: reported in `errors` instead of per-item `status:"error"`). */
	| { type: 'fail-task'; code?: string; message?: string; topLevel?: boolean }
	/** Accept: the last `failed` results of the task fail, the others succeed. */
	| { type: 'partial'; failed: number; code?: string; message?: string; topLevel?: boolean };

export interface RunwareFaultRule {
	match?: { kind?: RunwareFaultKind; model?: string; taskUUID?: string };
	/** How many matching requests/tasks the rule affects (default 1). */
	times?: number;
	action: RunwareFaultAction;
}

export interface RunwareCounters {
	/** POSTs to the API path received. */
	requests: number;
	/** imageInference tasks that reached the emulator in a parseable array, whatever their outcome (faults and auth failures included). */
	submissions: number;
	/** The same per taskUUID (a retry with the same UUID counts again; '(none)' when missing). */
	submissionsByTaskUUID: Record<string, number>;
	/** Tasks created (valid, accepted; at most one per taskUUID). */
	tasksCreated: number;
	/** Tasks created per model. */
	tasksByModel: Record<string, number>;
	/** imageInference tasks refused with conflictTaskUUID. */
	conflicts: number;
	/** getResponse tasks received. */
	polls: number;
	/** Result-URL downloads received. */
	downloads: number;
	/** `authentication` tasks received. */
	authTasks: number;
	/** Requests refused for auth (401). */
	authFailures: number;
	/** Requests answered >= 400 or dropped by a reset. */
	rejected: number;
	/** Requests answered 429. */
	throttled: number;
}

export interface RunwareRecordedRequest {
	kind: RunwareRequestKind;
	method: string;
	path: string;
	headers: Record<string, string>;
	/** Parsed JSON body, the raw text if not JSON, undefined when empty. */
	body?: unknown;
	/** 0 when the socket was destroyed without an answer. */
	status: number;
	responseBody?: unknown;
	/** Emulator clock (epoch ms). */
	at: number;
}

export type RunwareResultStatus = 'processing' | 'success' | 'error';

export interface RunwareTaskSnapshot {
	taskUUID: string;
	model: string;
	apiKey: string;
	deliveryMethod: 'sync' | 'async';
	request: Record<string, unknown>;
	numberResults: number;
	width: number;
	height: number;
	outputType: string;
	outputFormat: string;
	/** Seeds of the results, in order. */
	seeds: number[];
	seedGenerated: boolean;
	inputImages: Array<{ source: 'dataURI' | 'base64' | 'url' | 'uuid'; format: string; width: number; height: number; bytes: number }>;
	/** Per-result status right now (emulator clock). */
	statuses: RunwareResultStatus[];
	imageUUIDs: string[];
	submittedAt: number;
}
