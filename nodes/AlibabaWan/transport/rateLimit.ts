/**
 * Process-wide request pacing per DashScope account: a sliding-window limiter (at most `limit` grants in
 * any `windowMs`), keyed by origin + a hash of the API key (the key itself is never kept).
 */
import { createHash } from 'crypto';
import { abortedError } from './errors';
import { sleep } from './retry';

/** DashScope's documented defaults: 5 task submissions/s, 20 task queries/s. */
export const DEFAULT_RATE_LIMITS = { submit: 5, query: 20 } as const;
export type RateLimitKind = keyof typeof DEFAULT_RATE_LIMITS;

/** Slightly longer than 1 s so requests that leave exactly `limit` apart still land ≤limit per second server-side. */
const WINDOW_MS = 1_050;

export class SlidingWindowLimiter {
	private readonly grants: number[] = [];
	private tail: Promise<void> = Promise.resolve();

	constructor(
		readonly limit: number,
		readonly windowMs: number = WINDOW_MS,
		private readonly now: () => number = Date.now,
	) {}

	/** Resolves when a request may start; FIFO; rejects at once with `Aborted` when the signal fires. */
	acquire(signal?: AbortSignal): Promise<void> {
		if (signal?.aborted) return Promise.reject(abortedError());
		const run = async () => {
			for (;;) {
				const now = this.now();
				while (this.grants.length && now - this.grants[0] >= this.windowMs) this.grants.shift();
				if (this.grants.length < this.limit) {
					this.grants.push(now);
					return;
				}
				await sleep(this.grants[0] + this.windowMs - now, signal);
			}
		};
		// Chained so waiters are served in order; a waiter aborted while queued is skipped.
		const turn = this.tail.then(() => (signal?.aborted ? undefined : run()));
		this.tail = turn.catch(() => undefined);
		if (!signal) return turn;
		return new Promise<void>((resolve, reject) => {
			const onAbort = () => reject(abortedError());
			signal.addEventListener('abort', onAbort, { once: true });
			turn.then(
				() => {
					signal.removeEventListener('abort', onAbort);
					if (signal.aborted) reject(abortedError());
					else resolve();
				},
				(error) => {
					signal.removeEventListener('abort', onAbort);
					reject(error);
				},
			);
		});
	}
}

const limiters = new Map<string, SlidingWindowLimiter>();
let limits: Record<RateLimitKind, number> = { ...DEFAULT_RATE_LIMITS };

export function limiterKey(origin: string, apiKey: string): string {
	const digest = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
	return `${origin}#${digest}`;
}

export function getLimiter(kind: RateLimitKind, origin: string, apiKey: string): SlidingWindowLimiter {
	const key = `${kind}|${limiterKey(origin, apiKey)}`;
	let limiter = limiters.get(key);
	if (!limiter) {
		limiter = new SlidingWindowLimiter(limits[kind]);
		limiters.set(key, limiter);
	}
	return limiter;
}

/** Forget all limiter state; optionally change the per-second limits (tests). */
export function resetRateLimiters(overrides?: Partial<Record<RateLimitKind, number>>): void {
	limiters.clear();
	limits = { ...DEFAULT_RATE_LIMITS, ...(overrides ?? {}) };
}
