/**
 * How many tasks an execution keeps running at once, shared fairly with other callers of the same account.
 */
/** On a 429 the number of places is multiplied by this… */
const SHRINK_FACTOR = 0.7;
/** …every task that ends adds this back… */
const GROWTH_PER_TASK = 0.5;
/** …and after this long without a 429 all places are back (the other caller has gone). */
const QUIET_MS = 2_500;

/**
 * The execution's places for tasks, handed out first come first served; each release runs once. Their
 * number adapts to the account (AIMD): when the service answers a submit with 429 (its running-task or
 * submit-rate limit, e.g. another worker on the same key; a refused probe for a slot another client may
 * have freed excepted, see transport/runningSlots.ts), it shrinks by SHRINK_FACTOR (at most once a
 * second); every task that ends adds GROWTH_PER_TASK back, and a quiet spell restores the Concurrency
 * option. Executions sharing a key so back off from each other instead of colliding on every submit.
 */
export class TaskPlaces {
	private inUse = 0;
	private count: number;
	private lastShrinkAt = -Infinity;
	private quietTimer?: ReturnType<typeof setTimeout>;
	private readonly waiting: Array<() => void> = [];

	constructor(private readonly max: number) {
		this.count = max;
	}

	async take(): Promise<() => void> {
		if (this.inUse < Math.floor(this.count) && !this.waiting.length) this.inUse++;
		else await new Promise<void>((resolve) => this.waiting.push(resolve));
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.inUse--;
			this.wake();
		};
	}

	shrink(): void {
		const now = Date.now();
		if (now - this.lastShrinkAt < 1_000) return;
		this.lastShrinkAt = now;
		this.count = Math.max(1, this.count * SHRINK_FACTOR);
		clearTimeout(this.quietTimer);
		this.quietTimer = setTimeout(() => {
			this.count = this.max;
			this.wake();
		}, QUIET_MS);
	}

	grow(): void {
		this.count = Math.min(this.max, this.count + GROWTH_PER_TASK);
		this.wake();
	}

	/** The run is over: no timer may outlive it. */
	close(): void {
		clearTimeout(this.quietTimer);
	}

	private wake(): void {
		while (this.waiting.length && this.inUse < Math.floor(this.count)) {
			this.inUse++;
			this.waiting.shift()!();
		}
	}
}
