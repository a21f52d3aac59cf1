/**
 * Typed client for the emulator's HTTP control API (/__emulator/…), for e2e tests where the emulator
 * runs in another process (`npm run emulator -- --port N`). Same operations as the in-process handle.
 */
import type { Counters, EmulatedTaskSnapshot, FaultRule, RecordedRequest, RegionId, Timing } from './types';

export class EmulatorClient {
	readonly url: string;

	constructor(url: string) {
		this.url = url.replace(/\/+$/, '');
	}

	/** `${url}/${region}/api/v1`; without a region the un-prefixed `${url}/api/v1` (the emulator's default region). */
	baseUrl(region?: RegionId): string {
		return region ? `${this.url}/${region}/api/v1` : `${this.url}/api/v1`;
	}

	async reset(): Promise<void> {
		await this.call('POST', '/reset');
	}

	async setTiming(t: Partial<Timing>): Promise<Timing> {
		return this.call<Timing>('POST', '/timing', t);
	}

	async timing(): Promise<Timing> {
		return this.call<Timing>('GET', '/timing');
	}

	async advanceClock(ms: number): Promise<number> {
		return (await this.call<{ now: number }>('POST', '/clock', { advanceMs: ms })).now;
	}

	async now(): Promise<number> {
		return (await this.call<{ now: number }>('GET', '/clock')).now;
	}

	async addKey(key: string, region: RegionId): Promise<void> {
		await this.call('POST', '/keys', { key, region });
	}

	async injectFault(rule: FaultRule): Promise<void> {
		await this.call('POST', '/faults', rule);
	}

	async clearFaults(): Promise<void> {
		await this.call('DELETE', '/faults');
	}

	async counters(): Promise<Counters> {
		return this.call<Counters>('GET', '/counters');
	}

	async requests(): Promise<RecordedRequest[]> {
		return this.call<RecordedRequest[]>('GET', '/requests');
	}

	async task(taskId: string): Promise<EmulatedTaskSnapshot | undefined> {
		const res = await fetch(`${this.url}/__emulator/tasks/${encodeURIComponent(taskId)}`);
		if (res.status === 404) {
			await res.text();
			return undefined;
		}
		return this.parse<EmulatedTaskSnapshot>(res, 'GET /tasks');
	}

	/** Every task and sync call created since the last reset, in creation order. */
	async tasks(): Promise<EmulatedTaskSnapshot[]> {
		return this.call<EmulatedTaskSnapshot[]>('GET', '/tasks');
	}

	/** Resolves once the emulator answers (e.g. after spawning the CLI). */
	async waitUntilReady(timeoutMs = 10000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			try {
				await this.call('GET', '/health');
				return;
			} catch (err) {
				if (Date.now() > deadline) throw err;
				await new Promise((r) => setTimeout(r, 50));
			}
		}
	}

	private async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
		const res = await fetch(`${this.url}/__emulator${path}`, {
			method,
			headers: body === undefined ? undefined : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return this.parse<T>(res, `${method} ${path}`);
	}

	private async parse<T>(res: Response, what: string): Promise<T> {
		const text = await res.text();
		const json = text ? (JSON.parse(text) as unknown) : undefined;
		if (!res.ok) {
			const error = (json as { error?: string } | undefined)?.error ?? text;
			throw new Error(`emulator control ${what} failed: HTTP ${res.status} ${error}`);
		}
		return json as T;
	}
}
