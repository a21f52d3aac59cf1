/**
 * How long the tasks of one execution run, learned from the ones that finished, and where to spend
 * polls on a task that is still running: densely where it most likely ends, sparsely elsewhere.
 *
 * The run lengths seen so far (each smoothed by a small Gaussian kernel) give a hazard h(a): the chance
 * per second that a task still running at age a ends now. For a given number of polls, the expected
 * delay between a task's end and the poll that sees it is smallest when the poll rate is proportional
 * to √h(a) (minimise ∫f/2λ subject to ∫Sλ = polls). The factor is chosen so that a task polled this way
 * costs about `QUERY_SHARE` × the queries of the official SDKs' schedule for the same run lengths; the
 * rate stays between one poll per `MAX_GAP_MS` (the SDKs' own cap) and one per `MIN_GAP_MS`.
 */

/** Densest polling of one task. */
export const MIN_GAP_MS = 100;
/** Sparsest polling of one task: the SDKs' schedule never waits longer either. */
export const MAX_GAP_MS = 5_000;
/** Queries per task relative to the SDKs' schedule for the same run lengths (the bench allows 1.5). */
export const QUERY_SHARE = 1.4;
const GRID_MS = 50;
/** Longest run length the grid covers; later ages poll on the overdue rule. */
const MAX_HORIZON_MS = 900_000;
/** Below this survival the task has outlived what was seen: the overdue rule takes over. */
const OVERDUE_SURVIVAL = 0.02;
const SPARSE_RATE = 1 / MAX_GAP_MS;
/** Kernel width never below this (timer and clock jitter), and centred this much after each length seen. */
const MIN_SIGMA_MS = 20;
const CENTRE_SHIFT_MS = 15;
/** Ages at which fewer tasks than this have ended get only the sparse floor rate. */
const UNLIKELY_END = 0.05;
/** Run lengths kept (the most recent). */
const MAX_SAMPLES = 60;

/** Polls the official SDKs send for a task that ends `lengthMs` after its submit (1,1,2,2,2,4,4,4,5… s). */
export function sdkPolls(lengthMs: number): number {
	let t = 0;
	let wait = 1000;
	for (let n = 1; ; n++) {
		if (n % 3 === 0) wait = Math.min(wait * 2, 5000);
		if (t >= lengthMs) return n;
		t += wait;
	}
}

/** Polls the official SDKs have sent by `ageMs` after the submit (the one at once included; 0 before it). */
export function sdkPollsWithin(ageMs: number): number {
	if (ageMs < 0) return 0;
	let t = 0;
	let wait = 1000;
	for (let n = 1; ; n++) {
		if (n % 3 === 0) wait = Math.min(wait * 2, 5000);
		t += wait;
		if (t > ageMs) return n;
	}
}

/** A task that outlived every length seen: poll at a tenth of its age, within the gap limits. */
export function overdueGapMs(ageMs: number): number {
	return Math.min(MAX_GAP_MS, Math.max(250, ageMs * 0.1));
}

export class RunLengthModel {
	private samples: number[] = [];
	/** Poll rate (per ms) at each grid age; undefined beyond the horizon or where the task is overdue. */
	private rate: Float64Array = new Float64Array(0);
	private overdueFrom = 0;

	get size(): number {
		return this.samples.length;
	}

	/** Standard deviation of the run lengths seen (0 with fewer than two). */
	get spreadMs(): number {
		const n = this.samples.length;
		if (n < 2) return 0;
		const mean = this.samples.reduce((a, b) => a + b, 0) / n;
		return Math.sqrt(this.samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
	}

	/** A finished task's run length (start of running → end), ms. */
	add(lengthMs: number): void {
		if (!Number.isFinite(lengthMs) || lengthMs <= 0) return;
		this.samples.push(lengthMs);
		if (this.samples.length > MAX_SAMPLES) this.samples.shift();
		this.rebuild();
	}

	/** The age (ms since the task started running) of the next poll after one at `fromAgeMs`. */
	nextPollAge(fromAgeMs: number): number {
		const from = Math.max(0, fromAgeMs);
		if (this.samples.length === 0) return from + overdueGapMs(from);
		let index = Math.floor(from / GRID_MS);
		let budget = 1;
		let dense = index < this.rate.length && this.rate[index] > SPARSE_RATE;
		// The first (partial) cell counts from `from` on.
		for (; index < this.rate.length && index * GRID_MS < this.overdueFrom; index++) {
			const cellStart = Math.max(from, index * GRID_MS);
			const cellEnd = (index + 1) * GRID_MS;
			const rate = this.rate[index];
			// Where ends become likely, the first poll comes half a dense gap in (not wherever the sparse
			// schedule's remainder falls): just after the end for tasks as long as the ones seen.
			if (!dense && rate > SPARSE_RATE) return Math.max(from + MIN_GAP_MS, cellStart + 0.5 / rate);
			dense = rate > SPARSE_RATE;
			const polls = rate * (cellEnd - cellStart);
			if (polls >= budget) return Math.max(from + MIN_GAP_MS, cellStart + budget / rate);
			budget -= polls;
		}
		// Past what was seen: the overdue rule, from where the walk stopped.
		const at = Math.max(from, Math.min(index * GRID_MS, this.overdueFrom));
		return Math.max(from + MIN_GAP_MS, at + overdueGapMs(at) * budget);
	}

	private rebuild(): void {
		const n = this.samples.length;
		const sd = this.spreadMs;
		// Silverman's bandwidth once there are a few samples; never narrower than timer and clock jitter.
		const bandwidth = n >= 3 ? 1.06 * sd * n ** -0.2 : 0;
		const sigmas = this.samples.map((length) => Math.max(MIN_SIGMA_MS, 0.002 * length, bandwidth));
		const horizon = Math.min(MAX_HORIZON_MS, Math.max(...this.samples.map((length, k) => length + 5 * sigmas[k])) + GRID_MS);
		const cells = Math.ceil(horizon / GRID_MS);
		const hazard = new Float64Array(cells);
		const ended = new Float64Array(cells);
		this.overdueFrom = horizon;
		for (let i = 0; i < cells; i++) {
			const age = (i + 0.5) * GRID_MS;
			let density = 0;
			let survival = 0;
			for (let k = 0; k < n; k++) {
				const z = (age - this.samples[k] - CENTRE_SHIFT_MS) / sigmas[k];
				density += Math.exp(-0.5 * z * z) / (sigmas[k] * Math.sqrt(2 * Math.PI));
				survival += 1 - normalCdf(z);
			}
			density /= n;
			survival /= n;
			if (survival < OVERDUE_SURVIVAL) {
				this.overdueFrom = i * GRID_MS;
				break;
			}
			hazard[i] = density / survival;
			ended[i] = 1 - survival;
		}
		const usable = Math.ceil(this.overdueFrom / GRID_MS);
		const rateFor = (factor: number) => {
			const rate = new Float64Array(usable);
			for (let i = 0; i < usable; i++) {
				// Where hardly any task has ended yet, the sparse floor is enough.
				const dense = ended[i] < UNLIKELY_END ? 0 : factor * Math.sqrt(hazard[i]);
				rate[i] = Math.min(1 / MIN_GAP_MS, Math.max(SPARSE_RATE, dense));
			}
			return rate;
		};
		// Expected polls of a task of each seen length under `rate` (the poll that sees the end included).
		const expectedPolls = (rate: Float64Array) => {
			const cumulative = new Float64Array(usable + 1);
			for (let i = 0; i < usable; i++) cumulative[i + 1] = cumulative[i] + rate[i] * GRID_MS;
			let total = 0;
			for (const length of this.samples) {
				const end = Math.min(length, usable * GRID_MS);
				const cell = Math.floor(end / GRID_MS);
				let polls = 1 + cumulative[cell] + (cell < usable ? rate[cell] * (end - cell * GRID_MS) : 0);
				if (length > end) polls += (length - end) / overdueGapMs(length);
				total += polls;
			}
			return total / n;
		};
		const allowed = (QUERY_SHARE * this.samples.reduce((sum, length) => sum + sdkPolls(length), 0)) / n;
		// The largest factor whose expected polls stay within the allowance (bisection on a log scale).
		let low = Math.log(1e-4);
		let high = Math.log(10);
		if (expectedPolls(rateFor(Math.exp(high))) <= allowed) low = high;
		else {
			for (let step = 0; step < 24; step++) {
				const mid = (low + high) / 2;
				if (expectedPolls(rateFor(Math.exp(mid))) <= allowed) low = mid;
				else high = mid;
			}
		}
		this.rate = rateFor(Math.exp(low));
	}
}

/** Φ(z), Abramowitz–Stegun 7.1.26 (error below 1.5e-7). */
function normalCdf(z: number): number {
	const x = Math.abs(z) / Math.SQRT2;
	const t = 1 / (1 + 0.3275911 * x);
	const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
	return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
