/**
 * Public types of the OpenAI-style gateway emulator (no runtime imports, so tests and the CLI can
 * depend on them cheaply). The contract is seed 002 as written up in
 * /work/shared/reference/GATEWAY_API.md; §8's differences between gateways are the dialect knobs.
 */

/** Where gateways differ (GATEWAY_API.md §8). Presets in dialects.ts; every knob can be overridden. */
export interface GatewayDialect {
	/** Preset this dialect started from (informational). */
	name: string;
	/**
	 * The input-image field: 'image' (seed 002: one string, or an array of strings — the array form is
	 * UNCONFIRMED at G002) or 'images' (Modelverse / new-api: always an array). The other name is an
	 * unknown field.
	 */
	imageField: 'image' | 'images';
	/** Explicit pixel sizes: 'WxH' (seed 002, e.g. 1536x1024) or 'W*H' (the upstream form). Only this form is accepted. */
	sizeStyle: 'WxH' | 'W*H';
	/** `size` when omitted. */
	defaultSize: string;
	/** `thinking_mode` when omitted: true (seed 002) or false (Modelverse). */
	defaultThinkingMode: boolean;
	/** `n` when omitted with enable_sequential off / on (seed 002: 1 / 12). */
	defaultN: number;
	defaultNSequential: number;
	/** `prompt` may be missing or empty when images are sent (Modelverse); seed 002: always required. */
	promptOptionalWithImages: boolean;
	/** Unknown body fields: 'reject' (400, like a strict JSON schema) or 'ignore' (kept aside, like new-api). */
	unknownFields: 'reject' | 'ignore';
}

export type GatewayDialectName = 'seed' | 'images';

/** Emulated work in milliseconds: a generation holds its answer `generationMs + n × perImageMs`. */
export interface GatewayTiming {
	generationMs: number;
	perImageMs: number;
}

export const DEFAULT_GATEWAY_TIMING: GatewayTiming = { generationMs: 200, perImageMs: 50 };

export interface GatewayEmulatorOptions {
	/** 0 = ephemeral (default). */
	port?: number;
	/** Default '127.0.0.1'. */
	host?: string;
	/** API prefix (default '/v1'): routes are `{basePath}/images/generations` and `{basePath}/models`. */
	basePath?: string;
	/** Accepted Bearer keys (default GATEWAY_EMULATOR_KEYS). */
	keys?: string[];
	/** A preset name or a preset plus overrides (default 'seed'). */
	dialect?: GatewayDialectName | (Partial<GatewayDialect> & { preset?: GatewayDialectName });
	timing?: Partial<GatewayTiming>;
	/** 'list' (default): `GET {base}/models` lists the models; 'absent': that route answers 404 (gateway without it). */
	modelsRoute?: 'list' | 'absent';
	/** Extra model ids mapped to the two real ones (gateways rename models). */
	modelAliases?: Record<string, 'wan2.7-image' | 'wan2.7-image-pro'>;
	/** Lifetime of result URLs in seconds (default 86400: "valid 24 hours", G002). */
	urlTtlSeconds?: number;
	/** `revised_prompt`: 'prompt' (default: the prompt as sent) or 'empty' (""; new-api often sends that). */
	revisedPrompt?: 'prompt' | 'empty';
}

/** What a request was, for counters, faults and the log. */
export type GatewayRequestKind = 'generation' | 'models' | 'result' | 'other';

/** 'api' = generation and models calls (not result downloads). */
export type GatewayFaultKind = GatewayRequestKind | 'api' | 'any';

export type GatewayFaultAction =
	/**
	 * On arrival, before auth: answer `status` with an OpenAI error body (or `body` as `contentType`
	 * when given, e.g. an HTML proxy page); nothing is generated. `retryAfter` (seconds) adds Retry-After.
	 */
	| { type: 'http'; status: number; code?: string; errorType?: string; message?: string; retryAfter?: number; contentType?: string; body?: string }
	/** On arrival: the socket is destroyed without an answer; nothing is generated. */
	| { type: 'reset' }
	/** On arrival at a result URL: an HTML page with status 200 instead of the PNG. */
	| { type: 'html' }
	/** After the work (generated and billed): the answer is held `ms` more (an answer slower than the client's timeout). */
	| { type: 'slow-answer'; ms: number }
	/** After the work (generated and billed): this error instead of the images (default 500 InternalError). */
	| { type: 'error-after-work'; status?: number; code?: string; message?: string; contentType?: string; body?: string }
	/**
	 * After the work (generated and billed): the status line, headers and the first `fraction` (0–1,
	 * default 0.5) of the JSON body are written, then the socket is destroyed — mid-`b64_json` when the
	 * body carries one. 0 destroys the socket before any byte.
	 */
	| { type: 'reset-mid-answer'; fraction?: number }
	/** After the work: only `count` images come back (and are billed), fewer than `n` (an upstream that chose fewer). */
	| { type: 'fewer-images'; count: number };

export interface GatewayFaultRule {
	match?: { kind?: GatewayFaultKind; model?: string };
	/** How many matching requests the rule affects (default 1). */
	times?: number;
	action: GatewayFaultAction;
}

export interface GatewayCounters {
	/** Every HTTP request to the API routes (generation, models, unknown API paths), faults included. */
	requests: number;
	/** POSTs to `{base}/images/generations`, whatever their outcome. */
	generationRequests: number;
	/** Valid, authorised generations whose work started. */
	generationsStarted: number;
	/** Generations whose work finished (billed), whether or not the answer reached the client. */
	generationsCompleted: number;
	/** Images generated and billed. */
	billedImages: number;
	/** The same per API key. */
	billedImagesByKey: Record<string, number>;
	/** Completed (billed) generations whose images did not reach the client: client gone, reset mid-answer, error after the work. */
	answersLost: number;
	/** Result-URL downloads received. */
	downloads: number;
	/** `GET {base}/models` calls received. */
	modelsCalls: number;
	/** Requests refused for auth (401). */
	authFailures: number;
	/** Answers with status >= 400, or dropped by an arrival reset. */
	rejected: number;
	/** Answers with status 429. */
	throttled: number;
}

export interface GatewayRecordedRequest {
	kind: GatewayRequestKind;
	method: string;
	path: string;
	headers: Record<string, string>;
	/** Parsed JSON, the raw text if not JSON, undefined when empty. */
	body?: unknown;
	/** 0 while unanswered or when the socket was destroyed without an answer. */
	status: number;
	/** The JSON answered (b64_json strings shortened to their length). */
	responseBody?: unknown;
	/** Emulator clock (epoch ms). */
	at: number;
}

/** A generation as the emulator understood it (after defaults), for tests and the control API. */
export interface GatewayGenerationSnapshot {
	id: string;
	apiKey: string;
	/** As sent (may be an alias). */
	requestedModel: string;
	model: 'wan2.7-image' | 'wan2.7-image-pro';
	prompt: string;
	mode: 'text-to-image' | 'edit' | 'image-set';
	n: number;
	/** The `size` value applied (sent or default). */
	size: string;
	width: number;
	height: number;
	enableSequential: boolean;
	/** thinking_mode as applied (sent or default) and whether it takes effect (text-to-image, sequential off). */
	thinkingMode: boolean;
	thinkingEffective: boolean;
	watermark: boolean;
	seed: number;
	seedGenerated: boolean;
	responseFormat: 'url' | 'b64_json';
	inputImages: Array<{ source: 'data' | 'url'; format: string; width: number; height: number; bytes: number }>;
	state: 'generating' | 'completed';
	/** Images billed (n, or fewer with the fewer-images fault). */
	billedImages: number;
	/** Result ids (the URL path is /results/{id}.png). */
	resultIds: string[];
	/** The client closed the connection before the answer was written (timeout, cancel). */
	clientGone: boolean;
	startedAt: number;
}
