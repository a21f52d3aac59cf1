/**
 * Memory sampling for the process that runs the node: process.memoryUsage() on a timer, plus the
 * kernel's peak-RSS high-water mark (VmHWM), reset before the measured run, so a spike shorter than
 * the sampling interval is still caught.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface MemSample {
	t: number;
	rss: number;
	heapUsed: number;
	heapTotal: number;
	external: number;
	arrayBuffers: number;
}

export type MemKey = 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers';
export const MEM_KEYS: MemKey[] = ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'];

export function sample(): MemSample {
	const m = process.memoryUsage();
	return { t: performance.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** GC (when exposed) and give the allocator time to hand freed pages back, so RSS is steady. */
export async function settle(): Promise<void> {
	const gc = (globalThis as { gc?: () => void }).gc;
	for (let i = 0; i < 3; i++) {
		gc?.();
		await new Promise((r) => setTimeout(r, 150));
	}
}

/** Resets the kernel's peak RSS (VmHWM) for this process; false where unsupported. */
export function resetPeakRss(): boolean {
	try {
		writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

/** VmHWM in bytes (undefined off Linux). */
export function kernelPeakRss(): number | undefined {
	try {
		const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
		return m ? Number(m[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

export interface MemSummary {
	samples: number;
	intervalMs: number;
	/** Longest gap between two samples (a blocked event loop shows here). */
	maxGapMs: number;
	baseline: Record<MemKey, number>;
	peak: Record<MemKey, number>;
	delta: Record<MemKey, number>;
	/** Kernel peak RSS during the run (VmHWM after a reset) and its excess over the baseline RSS. */
	kernelPeakRss?: number;
	kernelPeakRssDelta?: number;
	/** After the run and a GC. */
	after: Record<MemKey, number>;
}

/** Samples every `intervalMs` while `fn` runs. Call `settle()` first so the baseline is after a GC. */
export async function measure<T>(
	fn: () => Promise<T>,
	intervalMs = 10,
): Promise<{ value: T; memory: MemSummary; wallMs: number; startEpochMs: number; endEpochMs: number }> {
	await settle();
	// Baseline: the state right before the run starts (after a GC and a pause).
	const hwmReset = resetPeakRss();
	const base = sample();
	const baseline = {} as Record<MemKey, number>;
	for (const k of MEM_KEYS) baseline[k] = base[k];
	const samples: MemSample[] = [base];
	const timer = setInterval(() => samples.push(sample()), intervalMs);
	const started = performance.now();
	const startEpochMs = Date.now();
	let value: T;
	try {
		value = await fn();
	} finally {
		clearInterval(timer);
	}
	const wallMs = performance.now() - started;
	const endEpochMs = Date.now();
	samples.push(sample());
	const hwm = hwmReset ? kernelPeakRss() : undefined;
	const peak = {} as Record<MemKey, number>;
	const delta = {} as Record<MemKey, number>;
	for (const k of MEM_KEYS) {
		peak[k] = Math.max(...samples.map((s) => s[k]));
		delta[k] = peak[k] - baseline[k];
	}
	let maxGapMs = 0;
	for (let i = 1; i < samples.length; i++) maxGapMs = Math.max(maxGapMs, samples[i].t - samples[i - 1].t);
	await settle();
	const a = sample();
	const after = {} as Record<MemKey, number>;
	for (const k of MEM_KEYS) after[k] = a[k];
	return {
		value,
		wallMs,
		startEpochMs,
		endEpochMs,
		memory: {
			samples: samples.length,
			intervalMs,
			maxGapMs: Math.round(maxGapMs),
			baseline,
			peak,
			delta,
			kernelPeakRss: hwm,
			kernelPeakRssDelta: hwm !== undefined ? hwm - baseline.rss : undefined,
			after,
		},
	};
}
