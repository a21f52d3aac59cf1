/**
 * The `/__emulator/…` control routes the Runware and gateway emulators share (reset, timing, clock,
 * keys, faults, counters, requests) and the plumbing around them: JSON input, 404 for an unknown
 * route, 400 with the message when a handler throws. Emulator-specific routes come in `extra`.
 */
import type http from 'node:http';

/** What the shared routes need of an emulator's state (method syntax: implementations may narrow the inputs). */
export interface ControlTarget {
	reset(): void;
	timing: object;
	setTiming(input: Record<string, unknown>): void;
	now(): number;
	advanceClock(ms: number): void;
	addKey(key: string): void;
	/** `add` takes the emulator's own rule type; the shared route hands it the JSON as sent (the queue validates it). */
	faults: { add(rule: never): void; pending(): unknown[]; clear(): void };
	counters: object;
	recorded: unknown[];
}

export interface ControlAnswer {
	status: number;
	body: unknown;
}

export type ExtraControl = (route: string, input: Record<string, unknown>, path: string) => ControlAnswer | undefined;

export function serveControl(res: http.ServerResponse, route: string, path: string, raw: Buffer | undefined, target: ControlTarget, extra: ExtraControl): void {
	let answer: ControlAnswer;
	let input: Record<string, unknown> | undefined;
	try {
		input = raw && raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
	} catch {
		answer = { status: 400, body: { error: 'invalid JSON' } };
	}
	if (input) {
		try {
			answer = commonRoute(route, input, target) ?? extra(route, input, path) ?? { status: 404, body: { error: `unknown control route ${route}` } };
		} catch (err) {
			answer = { status: 400, body: { error: err instanceof Error ? err.message : String(err) } };
		}
	}
	const text = JSON.stringify(answer!.body ?? null);
	res.writeHead(answer!.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

function commonRoute(route: string, input: Record<string, unknown>, t: ControlTarget): ControlAnswer | undefined {
	const ok = (body: unknown): ControlAnswer => ({ status: 200, body });
	switch (route) {
		case 'POST /__emulator/reset':
			t.reset();
			return ok({ ok: true });
		case 'GET /__emulator/timing':
			return ok(t.timing);
		case 'POST /__emulator/timing':
			t.setTiming(input);
			return ok(t.timing);
		case 'GET /__emulator/clock':
			return ok({ now: t.now() });
		case 'POST /__emulator/clock':
			t.advanceClock(Number(input.advanceMs ?? 0));
			return ok({ now: t.now() });
		case 'POST /__emulator/keys':
			t.addKey(String(input.key ?? ''));
			return ok({ ok: true });
		case 'POST /__emulator/faults':
			t.faults.add(input as never);
			return ok({ ok: true, pending: t.faults.pending().length });
		case 'GET /__emulator/faults':
			return ok(t.faults.pending());
		case 'DELETE /__emulator/faults':
			t.faults.clear();
			return ok({ ok: true });
		case 'GET /__emulator/counters':
			return ok(t.counters);
		case 'GET /__emulator/requests':
			return ok(t.recorded);
		default:
			return undefined;
	}
}

/** Emulator clock = real time + an offset the tests advance (result URLs expire by it). */
export class EmulatorClock {
	private offset = 0;

	now(): number {
		return Date.now() + this.offset;
	}

	advance(ms: number): void {
		if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceClock needs a non-negative number of milliseconds');
		this.offset += ms;
	}

	reset(): void {
		this.offset = 0;
	}
}

/** Copies the given `keys` of `input` into `timing`, each a finite number >= 0 (else throws naming it). */
export function applyTiming<T extends object>(timing: T, input: Partial<T>, keys: ReadonlyArray<keyof T & string>): void {
	for (const key of keys) {
		const v = input[key];
		if (v === undefined) continue;
		if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`timing.${key} must be a number >= 0`);
		timing[key] = v as T[keyof T & string];
	}
}

/** What every test-facing emulator handle offers (each emulator adds its own lookups). */
export interface EmulatorHandle<Timing, FaultRule, Counters, Recorded> {
	/** 'http://127.0.0.1:PORT' */
	readonly url: string;
	/** `${url}${basePath}`, e.g. 'http://127.0.0.1:PORT/v1': the base URL a client configures. */
	readonly apiUrl: string;
	close(): Promise<void>;
	/** Everything back to its start values: state, counters, requests, faults, clock, timing and keys. */
	reset(): void;
	setTiming(t: Partial<Timing>): void;
	/** Emulator clock = real time + offset. */
	advanceClock(ms: number): void;
	now(): number;
	addKey(key: string): void;
	injectFault(rule: FaultRule): void;
	clearFaults(): void;
	counters(): Counters;
	requests(): Recorded[];
}

/** What `emulatorHandle` needs of an emulator's state. */
export interface HandleState<Timing, FaultRule, Counters, Recorded> {
	reset(): void;
	setTiming(t: Partial<Timing>): void;
	advanceClock(ms: number): void;
	now(): number;
	addKey(key: string): void;
	readonly faults: { add(rule: FaultRule): void; clear(): void };
	readonly counters: Counters;
	readonly recorded: Recorded[];
}

/** The common part of a running emulator's handle (each emulator spreads it and adds its own lookups). */
export function emulatorHandle<Timing, FaultRule, Counters, Recorded>(
	url: string,
	basePath: string,
	server: { close(): Promise<void> },
	state: HandleState<Timing, FaultRule, Counters, Recorded>,
): EmulatorHandle<Timing, FaultRule, Counters, Recorded> {
	let closed: Promise<void> | undefined;
	return {
		url,
		apiUrl: url + basePath,
		close: () => (closed ??= server.close()),
		reset: () => state.reset(),
		setTiming: (t) => state.setTiming(t),
		advanceClock: (ms) => state.advanceClock(ms),
		now: () => state.now(),
		addKey: (key) => state.addKey(key),
		injectFault: (rule) => state.faults.add(rule),
		clearFaults: () => state.faults.clear(),
		counters: () => structuredClone(state.counters),
		requests: () => [...state.recorded],
	};
}
