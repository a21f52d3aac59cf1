/**
 * Per-second rate limits as sliding one-second windows on the emulator clock (so advanceClock
 * clears them). Only admitted events are logged: a throttled request does not consume quota.
 */

export interface RateDecision {
	allowed: boolean;
	/** Seconds until a slot frees (for Retry-After), when not allowed. */
	retryAfterSeconds?: number;
}

export class SlidingWindowLimiter {
	private readonly events = new Map<string, number[]>();

	constructor(
		private readonly limit: number,
		private readonly windowMs = 1000,
	) {}

	/** Checks and, when allowed, records one event for `bucket` at `now`. */
	take(bucket: string, now: number): RateDecision {
		const decision = this.check(bucket, now);
		if (decision.allowed) this.record(bucket, now);
		return decision;
	}

	check(bucket: string, now: number): RateDecision {
		const list = this.prune(bucket, now);
		if (list.length < this.limit) return { allowed: true };
		const oldest = list[list.length - this.limit];
		return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
	}

	record(bucket: string, now: number): void {
		const list = this.prune(bucket, now);
		list.push(now);
		this.events.set(bucket, list);
	}

	clear(): void {
		this.events.clear();
	}

	private prune(bucket: string, now: number): number[] {
		const list = (this.events.get(bucket) ?? []).filter((t) => t > now - this.windowMs && t <= now);
		this.events.set(bucket, list);
		return list;
	}
}
