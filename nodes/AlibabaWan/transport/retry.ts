/**
 * Backoff arithmetic, Retry-After parsing and an abort-aware sleep.
 */
import { abortedError } from './errors';

export interface RetryPolicy {
	/** Total attempts including the first (1 = no retry). */
	maxAttempts: number;
	/** First backoff ceiling, ms (full jitter: the wait is random in [0, ceiling]). */
	baseDelayMs: number;
	/** Upper bound of any computed backoff, ms. */
	maxDelayMs: number;
	/**
	 * Longest server-requested wait (Retry-After) we are willing to sleep, ms. A longer Retry-After ends
	 * the retries and surfaces the error (with retryAfterMs) instead.
	 */
	maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 6,
	baseDelayMs: 500,
	maxDelayMs: 10_000,
	maxRetryAfterMs: 60_000,
};

export function resolvePolicy(overrides?: Partial<RetryPolicy>): RetryPolicy {
	const p = { ...DEFAULT_RETRY_POLICY };
	if (!overrides) return p;
	for (const key of Object.keys(p) as Array<keyof RetryPolicy>) {
		const v = overrides[key];
		if (typeof v === 'number' && Number.isFinite(v) && v >= 0) p[key] = v;
	}
	p.maxAttempts = Math.max(1, Math.floor(p.maxAttempts));
	return p;
}

/**
 * Wait before retry number `retryIndex` (0 for the first retry): full jitter over
 * min(maxDelay, base * 2^retryIndex), but never less than the server's Retry-After.
 */
export function backoffDelay(
	retryIndex: number,
	policy: RetryPolicy,
	retryAfterMs?: number,
	random: () => number = Math.random,
): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retryIndex, 30));
	const jittered = Math.floor(random() * ceiling);
	return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
	const raw = Array.isArray(value) ? value[0] : value;
	if (raw === undefined) return undefined;
	const text = raw.trim();
	if (text === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
	const date = Date.parse(text);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

/** Sleep `ms`, rejecting at once with an `Aborted` ApiError when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal, operation?: string): Promise<void> {
	if (signal?.aborted) return Promise.reject(abortedError(operation));
	if (ms <= 0) return Promise.resolve();
	return new Promise<void>((resolve, reject) => {
		const onAbort = () => {
			clearTimeout(timer);
			reject(abortedError(operation));
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}
