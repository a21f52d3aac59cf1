/**
 * Process-wide request pacing per account: a sliding-window limiter (at most `limit` grants in any
 * `windowMs`), keyed by service, origin and a hash of the API key (the key itself is never kept).
 */
import { createHash } from 'crypto';
import { abortedError } from './errors';
import { sleep } from './retry';
import { resetRunningSlots } from './runningSlots';

/** DashScope's documented defaults: 5 task submissions/s, 20 task queries/s. */
export const DEFAULT_RATE_LIMITS = { submit: 5, query: 20 } as const;
export type RateLimitKind = keyof typeof DEFAULT_RATE_LIMITS;

/**
 * Longer than 1 s: the server stamps arrival, we stamp departure, and the two drift apart (network
 * jitter, event-loop lag on a busy n8n worker, connection set-up), so a bare 1 s window would still
 * draw 429s. 200 ms of margin costs ~17% of peak submit rate, far less than a 429 and its backoff.
 */
const WINDOW_MS = 1_200;

/** One granted request. `at` starts as the grant time and is moved to when the request really left. */
export interface RateSlot {
	at: number;
}

/**
 * Grants at most `limit` requests in any `windowMs`, first come first served. The limit in use adapts
 * (AIMD): a 429 halves it (once per window: a burst of 429s is one signal), and it grows back by one for
 * every window without a 429 and by 1/current for every answered request, up to `limit`. Processes sharing
 * an account (queue-mode workers) that each do so converge on shares of the account's limit instead of
 * colliding on it; a process that sends little (submits, a few a second) recovers with time, not only
 * with answers it seldom gets.
 */
export class SlidingWindowLimiter {
	private slots: RateSlot[] = [];
	private tail: Promise<unknown> = Promise.resolve();
	private pausedUntil = 0;
	private current: number;
	private lastDecreaseAt = -Infinity;
	/** Time-based growth is counted in whole windows from here. */
	private lastStepAt = 0;

	constructor(
		readonly limit: number,
		readonly windowMs: number = WINDOW_MS,
		private readonly now: () => number = Date.now,
	) {
		this.current = limit;
	}

	/** Requests allowed per window now (at least 1). */
	currentLimit(): number {
		this.recover();
		return Math.max(1, Math.floor(this.current));
	}

	/** The same as a rate per second. */
	ratePerSecond(): number {
		return (this.currentLimit() * 1000) / this.windowMs;
	}

	/** The service answered 429: halve the rate (once per window). */
	throttled(): void {
		const now = this.now();
		if (now - this.lastDecreaseAt < this.windowMs) return;
		this.recover();
		this.lastDecreaseAt = now;
		this.lastStepAt = now;
		this.current = Math.max(1, this.current / 2);
	}

	/** One step back per whole window since the last 429 or step. */
	private recover(): void {
		if (this.current >= this.limit) return;
		const steps = Math.floor((this.now() - this.lastStepAt) / this.windowMs);
		if (steps <= 0) return;
		this.lastStepAt += steps * this.windowMs;
		this.current = Math.min(this.limit, this.current + steps);
	}

	/** The service answered: one step back towards the full rate. */
	succeeded(): void {
		if (this.current < this.limit) this.current = Math.min(this.limit, this.current + 1 / this.current);
	}

	/**
	 * Resolves with a slot when a request may start (FIFO); rejects at once with `Aborted` when the
	 * signal fires. Call `markSent(slot)` when the request is actually written, so pacing counts
	 * departures rather than grants (a cold connection can delay a request well after its grant).
	 */
	acquire(signal?: AbortSignal): Promise<RateSlot> {
		if (signal?.aborted) return Promise.reject(abortedError());
		const run = async (): Promise<RateSlot> => {
			for (;;) {
				const now = this.now();
				if (now < this.pausedUntil) {
					await sleep(this.pausedUntil - now, signal);
					continue;
				}
				this.slots = this.slots.filter((slot) => now - slot.at < this.windowMs);
				if (this.slots.length < this.currentLimit()) {
					const slot = { at: now };
					this.slots.push(slot);
					return slot;
				}
				const oldest = Math.min(...this.slots.map((slot) => slot.at));
				await sleep(oldest + this.windowMs - now, signal);
			}
		};
		// Chained so waiters are served in order; a waiter aborted while queued is skipped.
		const turn = this.tail.then(() => (signal?.aborted ? undefined : run()));
		this.tail = turn.catch(() => undefined);
		return new Promise<RateSlot>((resolve, reject) => {
			const onAbort = () => reject(abortedError());
			signal?.addEventListener('abort', onAbort, { once: true });
			turn.then(
				(slot) => {
					signal?.removeEventListener('abort', onAbort);
					if (!slot || signal?.aborted) reject(abortedError());
					else resolve(slot);
				},
				(error: unknown) => {
					signal?.removeEventListener('abort', onAbort);
					reject(error);
				},
			);
		});
	}

	/** The server said "too many requests": hold every waiter on this account for `ms`. */
	pause(ms: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.max(0, ms));
	}

	/** The request of `slot` left just now. */
	markSent(slot: RateSlot): void {
		slot.at = Math.max(slot.at, this.now());
	}
}

const limiters = new Map<string, SlidingWindowLimiter>();
let limits: Record<RateLimitKind, number> = { ...DEFAULT_RATE_LIMITS };

export function limiterKey(origin: string, apiKey: string): string {
	const digest = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
	return `${origin}#${digest}`;
}

/**
 * A service's own pacing: `prefix` keeps its limiters apart from another service's on the same origin and
 * key, `limits` are its per-second limits. Without one, DashScope's (DEFAULT_RATE_LIMITS, or the test
 * overrides of resetRateLimiters).
 */
export interface RateLimitFamily {
	prefix: string;
	limits: Readonly<Record<RateLimitKind, number>>;
}

export function getLimiter(kind: RateLimitKind, origin: string, apiKey: string, family?: RateLimitFamily): SlidingWindowLimiter {
	const key = `${family ? `${family.prefix}-` : ''}${kind}|${limiterKey(origin, apiKey)}`;
	let limiter = limiters.get(key);
	if (!limiter) {
		limiter = new SlidingWindowLimiter(family ? family.limits[kind] : limits[kind]);
		limiters.set(key, limiter);
	}
	return limiter;
}

/** Forget all limiter state (running-slot gates too); optionally change the per-second limits (tests). */
export function resetRateLimiters(overrides?: Partial<Record<RateLimitKind, number>>): void {
	limiters.clear();
	resetRunningSlots();
	limits = { ...DEFAULT_RATE_LIMITS, ...(overrides ?? {}) };
}
