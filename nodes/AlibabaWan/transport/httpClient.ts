/**
 * The HTTP layer: one process-wide, proxy-aware undici dispatcher, per-request timeouts, the caller's
 * AbortSignal wired into the request, and tracking of how far a request got (connected? fully sent?),
 * which is what decides whether a failed create can be retried safely.
 */
import type { Dispatcher, EnvHttpProxyAgent } from 'undici';
import { ApiError, abortedError, errorFromNetwork, timeoutError } from './errors';
import type { StreamingJsonBody } from './types';

// ---------------------------------------------------------------------------------------------
// The dispatcher

type Undici = typeof import('undici');
let undiciModule: Undici | undefined;
/**
 * undici is loaded on the first request, not when n8n loads the node: evaluating it is most of the
 * node's load time (bench P5), and n8n loads every installed node at start-up whether it runs or not.
 */
function undici(): Undici {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return (undiciModule ??= require('undici') as Undici);
}

/** Agent settings: keep-alive pool per origin, bounded connect time, TCP keep-alive probes. */
export const AGENT_OPTIONS: EnvHttpProxyAgent.Options = {
	connect: { timeout: 15_000, keepAlive: true, keepAliveInitialDelay: 30_000 },
	keepAliveTimeout: 4_000,
	keepAliveMaxTimeout: 60_000,
	// Plain-HTTP targets go through an HTTP proxy as absolute-URI requests (like curl); HTTPS always tunnels.
	proxyTunnel: false,
};

let sharedDispatcher: Dispatcher | undefined;
let injectedDispatcher: Dispatcher | undefined;

/** The dispatcher every transport request uses: a lazily created EnvHttpProxyAgent, or a test override. */
export function getDispatcher(): Dispatcher {
	if (injectedDispatcher) return injectedDispatcher;
	if (!sharedDispatcher) sharedDispatcher = new (undici().EnvHttpProxyAgent)(AGENT_OPTIONS);
	return sharedDispatcher;
}

/**
 * Drop the shared dispatcher (its pooled connections are closed in the background) so the next request
 * builds a new one — e.g. after HTTP_PROXY / HTTPS_PROXY changed.
 */
export async function resetDispatcher(): Promise<void> {
	const old = sharedDispatcher;
	sharedDispatcher = undefined;
	if (old) await old.close().catch(() => undefined);
}

/** Use `dispatcher` for every request (tests); `undefined` restores the proxy-aware default. */
export function setDispatcherForTests(dispatcher: Dispatcher | undefined): void {
	injectedDispatcher = dispatcher;
}

// ---------------------------------------------------------------------------------------------
// Progress tracking

/** How far one request got. `sent` = every byte of the request was handed to the socket. */
export interface RequestProgress {
	connected: boolean;
	sent: boolean;
	/** An error thrown by the request body source itself (not the network). */
	bodyError?: unknown;
}

type TrackingDispatcherClass = new (inner: Dispatcher, progress: RequestProgress, onDispatch?: () => void) => Dispatcher;
let trackingDispatcherClass: TrackingDispatcherClass | undefined;

/** Wraps the real dispatcher for one request to observe `onConnect` / `onRequestSent` (a class made once undici is loaded). */
function trackingDispatcher(inner: Dispatcher, progress: RequestProgress, onDispatch?: () => void): Dispatcher {
	trackingDispatcherClass ??= class TrackingDispatcher extends undici().Dispatcher {
		constructor(
			private readonly inner: Dispatcher,
			private readonly progress: RequestProgress,
			private readonly onDispatch?: () => void,
		) {
			super();
		}

		dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
			const progress = this.progress;
			const onDispatch = this.onDispatch;
			const tracked = new Proxy(handler as object, {
				get(target, prop) {
					if (prop === 'onConnect') {
						return (...args: unknown[]) => {
							progress.connected = true;
							onDispatch?.();
							return (target as { onConnect?: (...a: unknown[]) => unknown }).onConnect?.(...args);
						};
					}
					if (prop === 'onRequestSent') {
						return () => {
							progress.sent = true;
							return (target as { onRequestSent?: () => unknown }).onRequestSent?.();
						};
					}
					const value = Reflect.get(target, prop, target) as unknown;
					return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
				},
			}) as Dispatcher.DispatchHandler;
			return this.inner.dispatch(options, tracked);
		}
	};
	return new trackingDispatcherClass(inner, progress, onDispatch);
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface SendOptions {
	method: 'GET' | 'POST';
	url: string;
	headers: Record<string, string>;
	body?: string | StreamingJsonBody;
	/** Whole-attempt deadline (headers + body), ms. */
	timeoutMs: number;
	signal?: AbortSignal;
	operation: string;
	/** Who is asked, for messages ("DashScope did not complete the request…"). */
	service?: string;
	/** Called when the request is about to be written on a connected socket (rate-limit bookkeeping). */
	onDispatch?: () => void;
}

export interface SendResult {
	statusCode: number;
	statusText?: string;
	headers: Record<string, string | string[] | undefined>;
	body: Dispatcher.ResponseData['body'];
	progress: RequestProgress;
	/** Stop the deadline timer and detach from the caller's signal; call once the body is consumed. */
	done(): void;
}

/**
 * One HTTP attempt. Resolves once response headers arrived; rejects with a ApiError
 * (Aborted / Timeout / network code) carrying `notSent` when the request provably never fully left.
 * The returned body stays under the deadline and the caller's signal until `done()`.
 */
export async function send(options: SendOptions): Promise<SendResult> {
	const { signal, timeoutMs, operation, service } = options;
	const progress: RequestProgress = { connected: false, sent: false };
	if (signal?.aborted) throw withProgress(abortedError(operation), progress);

	const controller = new AbortController();
	const onCallerAbort = () => controller.abort(abortedError(operation));
	signal?.addEventListener('abort', onCallerAbort, { once: true });
	const timer = setTimeout(() => controller.abort(timeoutError(timeoutMs, operation, service)), timeoutMs);
	let finished = false;
	const done = () => {
		if (finished) return;
		finished = true;
		clearTimeout(timer);
		signal?.removeEventListener('abort', onCallerAbort);
	};

	let body: string | AsyncIterable<Uint8Array> | undefined;
	const headers = { ...options.headers };
	if (typeof options.body === 'string') {
		body = options.body;
	} else if (options.body) {
		headers['content-length'] = String(options.body.contentLength);
		body = trackBodyErrors(options.body.open(), progress);
	}

	const host = safeHost(options.url);
	try {
		const response = await undici().request(options.url, {
			method: options.method,
			headers,
			// undici streams any async iterable (types only list Readable).
			body: body as Dispatcher.RequestOptions['body'],
			signal: controller.signal,
			dispatcher: trackingDispatcher(getDispatcher(), progress, options.onDispatch),
			headersTimeout: timeoutMs,
			bodyTimeout: timeoutMs,
		});
		const statusText = (response as { statusText?: string }).statusText;
		return {
			statusCode: response.statusCode,
			statusText,
			headers: response.headers,
			body: response.body,
			progress,
			done,
		};
	} catch (error) {
		done();
		throw withProgress(mapFailure(error, controller.signal, progress, operation, host), progress);
	}
}

/** Turn whatever a request/body read threw into a ApiError. */
export function mapFailure(
	error: unknown,
	attemptSignal: AbortSignal | undefined,
	progress: RequestProgress | undefined,
	operation: string,
	host?: string,
): ApiError {
	if (attemptSignal?.aborted && attemptSignal.reason instanceof ApiError) {
		return new ApiError(attemptSignal.reason.fields());
	}
	if (error instanceof ApiError) return error;
	if (progress?.bodyError !== undefined) {
		return new ApiError({
			code: 'RequestBodyError',
			message: `Could not read the request body: ${messageOf(progress.bodyError)}`,
			operation,
			notSent: true,
			retryable: false,
		});
	}
	const mapped = errorFromNetwork(error, { operation, host });
	if (mapped.networkCode === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
		mapped.code = 'RequestBodyError';
	}
	return mapped;
}

function withProgress(error: ApiError, progress: RequestProgress): ApiError {
	// Nothing fully sent: a create cannot have happened (a server needs the complete JSON body).
	if (error.notSent === undefined) error.notSent = !progress.sent;
	return error;
}

/** Pass the body through, remembering an error thrown by the source itself (not by the network). */
async function* trackBodyErrors(source: AsyncIterable<Uint8Array>, progress: RequestProgress): AsyncIterable<Uint8Array> {
	const iterator = source[Symbol.asyncIterator]();
	let exhausted = false;
	try {
		for (;;) {
			const step = await iterator.next().catch((error: unknown) => {
				exhausted = true;
				progress.bodyError = error;
				return Promise.reject(error);
			});
			if (step.done) {
				exhausted = true;
				return;
			}
			yield step.value;
		}
	} finally {
		// undici stopped early (socket error, abort): let the source release what it holds.
		if (!exhausted) await iterator.return?.();
	}
}

/** Read a response body as text, refusing more than `maxBytes`. */
export async function readText(body: AsyncIterable<Uint8Array | string>, maxBytes = 8 * 1024 * 1024): Promise<string> {
	const chunks: Buffer[] = [];
	let total = 0;
	for await (const chunk of body) {
		const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		total += buf.byteLength;
		if (total > maxBytes) {
			const destroyable = body as { destroy?: () => void };
			destroyable.destroy?.();
			throw new ApiError({
				code: 'InvalidResponse',
				message: `The response body is larger than ${maxBytes} bytes`,
				retryable: false,
			});
		}
		chunks.push(buf);
	}
	return Buffer.concat(chunks).toString('utf8');
}

export function safeHost(url: string): string | undefined {
	try {
		return new URL(url).host;
	} catch {
		return undefined;
	}
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
	const v = headers[name.toLowerCase()];
	return Array.isArray(v) ? v[0] : v;
}
