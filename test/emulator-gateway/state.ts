/**
 * Mutable emulator state: clock, keys, timing, counters, recorded requests, generations and their
 * results (by id, with expiry), faults, work waits, the in-flight count and a small picture cache.
 */
import { randomUUID } from 'node:crypto';

import { applyTiming, EmulatorClock } from '../emulator/control-common';
import { Sleeper } from '../emulator/http-common';
import { renderPng, type RenderSpec } from '../emulator/png';
import { GatewayFaultQueue } from './faults';
import type { GenerationJob } from './validation';
import type { GatewayCounters, GatewayDialect, GatewayGenerationSnapshot, GatewayRecordedRequest, GatewayTiming } from './types';

/** Keys accepted at start. */
export const GATEWAY_EMULATOR_KEYS: readonly string[] = ['gw-emu-key-1', 'gw-emu-key-2'];

export const PNG_SOFTWARE = 'Gateway emulator';

export function emptyCounters(): GatewayCounters {
	return {
		requests: 0,
		generationRequests: 0,
		generationsStarted: 0,
		generationsCompleted: 0,
		billedImages: 0,
		billedImagesByKey: {},
		answersLost: 0,
		downloads: 0,
		modelsCalls: 0,
		authFailures: 0,
		rejected: 0,
		throttled: 0,
	};
}

export interface GenerationRecord {
	id: string;
	apiKey: string;
	job: GenerationJob;
	state: 'generating' | 'completed';
	billedImages: number;
	resultIds: string[];
	startedAt: number;
	completedAt?: number;
	/** The client closed the connection before the answer was written. */
	clientGone: boolean;
}

export interface StateConfig {
	timing: GatewayTiming;
	keys: readonly string[];
	basePath: string;
	dialect: GatewayDialect;
	modelsRoute: 'list' | 'absent';
	aliases: Record<string, 'wan2.7-image' | 'wan2.7-image-pro'>;
	urlTtlSeconds: number;
	revisedPrompt: 'prompt' | 'empty';
}

export class GatewayState {
	timing: GatewayTiming;
	readonly keys = new Set<string>();
	counters = emptyCounters();
	recorded: GatewayRecordedRequest[] = [];
	readonly generations = new Map<string, GenerationRecord>();
	readonly results = new Map<string, { generation: GenerationRecord; index: number }>();
	readonly faults = new GatewayFaultQueue();
	origin = '';
	private readonly clock = new EmulatorClock();
	/** Server-lifetime delays (close ends them). */
	private readonly sleeper = new Sleeper();
	/** Work and held answers: completePending() ends them early, close() too. */
	private workSleeper = new Sleeper();
	private closed = false;
	private inFlight = 0;
	private idleWaiters: Array<() => void> = [];
	private startWaiters: Array<{ count: number; resolve: () => void }> = [];
	private readonly pictures = new Map<string, Promise<Buffer>>();

	constructor(readonly config: StateConfig) {
		this.timing = { ...config.timing };
		this.resetKeys();
	}

	now(): number {
		return this.clock.now();
	}

	advanceClock(ms: number): void {
		this.clock.advance(ms);
	}

	setTiming(t: Partial<GatewayTiming>): void {
		applyTiming(this.timing, t, ['generationMs', 'perImageMs']);
	}

	addKey(key: string): void {
		if (typeof key !== 'string' || key.length === 0) throw new Error('key must be a non-empty string');
		this.keys.add(key);
	}

	reset(): void {
		this.generations.clear();
		this.results.clear();
		this.pictures.clear();
		this.counters = emptyCounters();
		this.recorded = [];
		this.faults.clear();
		this.clock.reset();
		this.timing = { ...this.config.timing };
		this.startWaiters = [];
		this.resetKeys();
		// Work left over from before the reset finishes now and is not counted (complete() checks the map).
		this.completePending();
	}

	private resetKeys(): void {
		this.keys.clear();
		for (const key of this.config.keys) this.keys.add(key);
	}

	sleep(ms: number): Promise<void> {
		return this.sleeper.sleep(ms);
	}

	/** A wait for emulated work or a held answer; completePending() and close() end it early. */
	workWait(ms: number): Promise<void> {
		return this.workSleeper.sleep(ms);
	}

	/** Ends every pending generation wait and held answer now (later ones wait normally). */
	completePending(): void {
		const current = this.workSleeper;
		if (!this.closed) this.workSleeper = new Sleeper();
		current.wakeAll();
	}

	wakeAll(): void {
		this.closed = true;
		this.sleeper.wakeAll();
		this.workSleeper.wakeAll();
	}

	// ---------------------------------------------------------------- generations

	start(apiKey: string, job: GenerationJob): GenerationRecord {
		const generation: GenerationRecord = { id: randomUUID(), apiKey, job, state: 'generating', billedImages: 0, resultIds: [], startedAt: this.now(), clientGone: false };
		this.generations.set(generation.id, generation);
		this.counters.generationsStarted += 1;
		const started = this.counters.generationsStarted;
		this.startWaiters = this.startWaiters.filter((w) => (w.count <= started ? (w.resolve(), false) : true));
		return generation;
	}

	/** The work is done: `count` images exist and are billed, whatever happens to the answer. */
	complete(generation: GenerationRecord, count: number): void {
		generation.state = 'completed';
		generation.completedAt = this.now();
		generation.billedImages = count;
		for (let index = 0; index < count; index++) {
			const id = randomUUID();
			generation.resultIds.push(id);
			this.results.set(id, { generation, index });
		}
		if (!this.generations.has(generation.id)) return; // started before a reset
		const c = this.counters;
		c.generationsCompleted += 1;
		c.billedImages += count;
		c.billedImagesByKey[generation.apiKey] = (c.billedImagesByKey[generation.apiKey] ?? 0) + count;
	}

	/** Resolves once `count` generations have started since the last reset. */
	waitForGenerations(count: number): Promise<void> {
		if (this.counters.generationsStarted >= count) return Promise.resolve();
		return new Promise((resolve) => this.startWaiters.push({ count, resolve }));
	}

	/** Generation requests being handled: counted so tests can wait until every answer went out (or was lost). */
	enter(): void {
		this.inFlight += 1;
	}

	leave(): void {
		this.inFlight -= 1;
		if (this.inFlight > 0) return;
		const waiters = this.idleWaiters;
		this.idleWaiters = [];
		for (const w of waiters) w();
	}

	idle(): Promise<void> {
		if (this.inFlight === 0) return Promise.resolve();
		return new Promise((resolve) => this.idleWaiters.push(resolve));
	}

	expiresAt(generation: GenerationRecord): number {
		return (generation.completedAt ?? generation.startedAt) + this.config.urlTtlSeconds * 1000;
	}

	renderSpec(generation: GenerationRecord, index: number): RenderSpec {
		const { job } = generation;
		return {
			width: job.width,
			height: job.height,
			seed: job.seed + index,
			prompt: job.prompt,
			index,
			imageCount: job.n,
			model: job.model,
			inputs: job.inputs,
			boxes: job.boxes,
			watermark: job.watermark,
		};
	}

	/** Result picture `id` (rendered once; a few recent ones are kept for repeated downloads). */
	picture(id: string): Promise<Buffer> | undefined {
		const found = this.results.get(id);
		if (!found) return undefined;
		let entry = this.pictures.get(id);
		if (entry) this.pictures.delete(id);
		else entry = renderPng(this.renderSpec(found.generation, found.index), PNG_SOFTWARE);
		this.pictures.set(id, entry);
		while (this.pictures.size > 8) this.pictures.delete(this.pictures.keys().next().value as string);
		return entry;
	}

	snapshot(g: GenerationRecord): GatewayGenerationSnapshot {
		const { job } = g;
		const mode = job.enableSequential ? 'image-set' : job.inputs.length > 0 ? 'edit' : 'text-to-image';
		return {
			id: g.id,
			apiKey: g.apiKey,
			requestedModel: job.requestedModel,
			model: job.model,
			prompt: job.prompt,
			mode,
			n: job.n,
			size: job.size,
			width: job.width,
			height: job.height,
			enableSequential: job.enableSequential,
			thinkingMode: job.thinkingMode,
			thinkingEffective: job.thinkingMode && mode === 'text-to-image',
			watermark: job.watermark,
			seed: job.seed,
			seedGenerated: job.seedGenerated,
			responseFormat: job.responseFormat,
			inputImages: job.inputs.map((i) => ({ source: i.source, format: i.format, width: i.width, height: i.height, bytes: i.bytes })),
			state: g.state,
			billedImages: g.billedImages,
			resultIds: [...g.resultIds],
			clientGone: g.clientGone,
			startedAt: g.startedAt,
		};
	}
}
