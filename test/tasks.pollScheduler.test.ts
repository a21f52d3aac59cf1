/**
 * The arithmetic behind the automatic poll schedule and the account sharing: the run-length model
 * (tasks/runLengthModel.ts), the query budget of the execution's scheduler (tasks/pollScheduler.ts),
 * the AIMD rate of the per-account limiter (transport/rateLimit.ts) and the execution's task places
 * (actions/taskPlaces.ts). Clocks are injected where the code takes one; nothing here is timed.
 */
import { TaskPlaces } from '../nodes/AlibabaWan/actions/taskPlaces';
import { dashScopeService } from '../nodes/AlibabaWan/services/dashscope';
import { PollScheduler } from '../nodes/AlibabaWan/tasks/pollScheduler';
import type { TaskGlance, WanSession } from '../nodes/AlibabaWan/services';
import { ApiError } from '../nodes/AlibabaWan/transport/errors';
import { MAX_GAP_MS, MIN_GAP_MS, QUERY_SHARE, RunLengthModel, overdueGapMs, sdkPolls, sdkPollsWithin } from '../nodes/AlibabaWan/tasks/runLengthModel';
import { SlidingWindowLimiter } from '../nodes/AlibabaWan/transport/rateLimit';

/** Ages of the polls the model plans for a task until it sees `endMs` (the poll that sees it included). */
function plannedPolls(model: RunLengthModel, endMs: number): number[] {
	const ages: number[] = [];
	let age = 0;
	while (age < endMs) {
		age = model.nextPollAge(age);
		ages.push(age);
	}
	return ages;
}

describe('run-length model', () => {
	test("the SDKs' schedule it is measured against: a poll at once, then 1, 1, 2, 2, 2, 4, 4, 4, 5 … s apart", () => {
		expect([0, 1000, 2000, 3500, 12_000, 45_000].map(sdkPolls)).toEqual([1, 2, 3, 4, 7, 14]);
	});

	test("the credit batch looks earn: the SDKs' polls sent by an age (at 0, 1, 2, 4, 6, 8, 12 … s), the one that sees the end added at the end", () => {
		expect([-1, 0, 999, 1000, 2000, 3999, 4000, 12_000, 45_000].map(sdkPollsWithin)).toEqual([0, 1, 1, 2, 3, 3, 4, 7, 14]);
		// A task that ends between two SDK polls: the polls sent by then plus the one that sees it.
		for (const length of [500, 1500, 3500, 11_000, 44_000]) expect(sdkPollsWithin(length) + 1).toBe(sdkPolls(length));
	});

	test('tasks as long as the ones seen are polled just after that length, with fewer polls than the SDKs', () => {
		for (const length of [3500, 12_000, 45_000]) {
			const model = new RunLengthModel();
			for (let i = 0; i < 5; i++) model.add(length);
			const polls = plannedPolls(model, length);
			const lag = polls[polls.length - 1] - length;
			expect(lag).toBeGreaterThanOrEqual(0);
			expect(lag).toBeLessThanOrEqual(2 * MIN_GAP_MS);
			expect(polls.length).toBeLessThanOrEqual(sdkPolls(length));
			// Between polls never more than the SDKs' own longest wait.
			for (let i = 1; i < polls.length; i++) expect(polls[i] - polls[i - 1]).toBeLessThanOrEqual(MAX_GAP_MS + 1);
		}
	});

	test('spread lengths: polls stay within the allowance relative to the SDKs, on average over lengths like the ones seen', () => {
		const lengths = Array.from({ length: 40 }, (_, i) => 2000 + i * 450);
		const model = new RunLengthModel();
		for (const length of lengths) model.add(length);
		const ours = lengths.reduce((sum, length) => sum + plannedPolls(model, length).length, 0);
		const sdk = lengths.reduce((sum, length) => sum + sdkPolls(length), 0);
		expect(ours / sdk).toBeLessThanOrEqual(QUERY_SHARE + 0.05);
	});

	test('a task that outlives every length seen is polled at a tenth of its age (within the gap limits)', () => {
		const model = new RunLengthModel();
		model.add(2000);
		expect(model.nextPollAge(30_000) - 30_000).toBe(overdueGapMs(30_000));
		expect(overdueGapMs(30_000)).toBe(3000);
		expect(overdueGapMs(500)).toBe(250);
		expect(overdueGapMs(600_000)).toBe(MAX_GAP_MS);
	});
});

describe("the execution's poll scheduler", () => {
	const session = () => dashScopeService.connect({ apiKey: 'sk-test', region: 'ap-southeast-1', workspaceId: '', baseUrl: '' });

	test('its queries in any second stay under 90 % of the account budget (the limiter lowered after a 429 included)', async () => {
		let now = 0;
		const scheduler = new PollScheduler(session(), () => now);
		const taken: number[] = [];
		const stop = new AbortController();
		for (let i = 0; i < 40; i++) {
			const pending = scheduler.takeQuery(stop.signal);
			pending.catch(() => undefined);
			// The budget is checked synchronously when there is room; otherwise it waits for the window.
			const resolved = await Promise.race([pending.then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);
			if (!resolved) break;
			taken.push(now);
			now += 10;
		}
		stop.abort(); // the 16th waits for the window to move on (it never does here)
		// DashScope: 20 per 1.2 s window = 16.7/s; 90 % of it, whole queries.
		expect(taken).toHaveLength(15);
	});

	test('until a task finished, the oldest task is looked at closely and the others sparsely; a finish re-plans', () => {
		let now = 1_000_000;
		const scheduler = new PollScheduler(session(), () => now);
		scheduler.track('a', now);
		now += 100;
		scheduler.track('b', now);
		expect(scheduler.plannedAt("a") - (now - 100)).toBe(600);
		expect(scheduler.plannedAt('b') - now).toBe(8000);
		now += 3000;
		scheduler.observe('a', { taskId: 'a', status: 'SUCCEEDED', submittedAt: 5000, startedAt: 5000, endedAt: 8000 }, now);
		scheduler.forget('a');
		// b started 100 ms after a: its end is planned just after 3 s of running.
		const planned = scheduler.plannedAt('b') - (1_000_000 + 100);
		expect(planned).toBeGreaterThanOrEqual(3000);
		expect(planned).toBeLessThanOrEqual(3000 + 2 * MIN_GAP_MS);
	});
});

describe('waits the scheduler shares', () => {
	const session = () => dashScopeService.connect({ apiKey: 'sk-test', region: 'ap-southeast-1', workspaceId: '', baseUrl: '' });
	/** Whether `promise` has settled once pending timers of 0 ms and I/O had their turn (the clock is injected). */
	const settledSoon = (promise: Promise<unknown>) =>
		Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setTimeout(() => resolve(false), 20))]);

	test('two items waiting on the same task: when the first wait ends, the second still waits its turn, and a finish re-plans both', async () => {
		let now = 1_000_000;
		const scheduler = new PollScheduler(session(), () => now);
		const stop = new AbortController();
		scheduler.track('same');
		scheduler.track('same');
		scheduler.observe('same', { taskId: 'same', status: 'RUNNING' }, now);
		const first = scheduler.waitTurn('same', now + 60_000, stop.signal);
		const second = scheduler.waitTurn('same', now + 60_000, stop.signal);
		first.catch(() => undefined);
		second.catch(() => undefined);
		// The first item's wait ends (e.g. its own Timeout): the task is still tracked for the second.
		scheduler.forget('same');
		const third = scheduler.waitTurn('same', now + 60_000, stop.signal);
		third.catch(() => undefined);
		expect(await settledSoon(third)).toBe(false);
		expect(scheduler.plannedAt('same')).toBeGreaterThan(now);
		// Another task teaches a run length already passed: every pending wait on "same" is re-planned, none lost.
		scheduler.track('other', now - 5000);
		now += 10_000;
		// "other" ran 6 s (a task's length is taught once); "same" has been running 10 s.
		scheduler.observe('other', { taskId: 'other', status: 'SUCCEEDED' }, now - 9000);
		expect(await settledSoon(Promise.all([first, second, third]))).toBe(true);
		stop.abort();
		scheduler.forget('same');
		scheduler.forget('other');
	});

	test('an untracked task is never polled back to back: its turn comes after the minimum gap', async () => {
		const scheduler = new PollScheduler(session(), () => 0);
		const stop = new AbortController();
		const turn = scheduler.waitTurn('unknown', 60_000, stop.signal);
		turn.catch(() => undefined);
		expect(await Promise.race([turn.then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))])).toBe(false);
		stop.abort();
		await expect(turn).rejects.toMatchObject({ code: 'Aborted' });
	});

	test('a task collected, not submitted, teaches no run length without both service times', () => {
		let now = 1_000_000;
		const scheduler = new PollScheduler(session(), () => now);
		scheduler.track('collected');
		scheduler.track('ours', now);
		now += 5;
		// Already finished when we started watching it: 5 ms is not its run length.
		scheduler.observe('collected', { taskId: 'collected', status: 'SUCCEEDED' }, now);
		scheduler.forget('collected');
		// Still learning: the task we submitted is the lead, looked at every LEAD_GAP (600 ms).
		expect(scheduler.plannedAt('ours') - (now - 5)).toBe(600);
		// With the service's start and end times it does teach one (3 s).
		scheduler.track('timed');
		scheduler.observe('timed', { taskId: 'timed', status: 'SUCCEEDED', startedAt: 10_000, endedAt: 13_000 }, now);
		scheduler.forget('timed');
		const planned = scheduler.plannedAt('ours') - (now - 5);
		expect(planned).toBeGreaterThanOrEqual(MIN_GAP_MS);
		expect(planned).toBeLessThanOrEqual(3000 + 2 * MIN_GAP_MS);
		expect(planned).not.toBe(600);
	});
});

describe('batch looks (a fake session that counts its looks; real timers, the real clock)', () => {
	/** A DashScope session whose batch look answers from `state` (RUNNING unless set) or throws `fail`. */
	function lookingSession(state: Map<string, TaskGlance['status']>, fail?: () => unknown) {
		const base = dashScopeService.connect({ apiKey: 'sk-test', region: 'ap-southeast-1', workspaceId: '', baseUrl: '' });
		const looks: Array<{ at: number; ids: string[] }> = [];
		const session: WanSession = {
			...base,
			async lookAtTasks(ids) {
				looks.push({ at: Date.now(), ids: [...ids] });
				if (fail) throw fail();
				return new Map(ids.map((id) => [id, { taskId: id, status: state.get(id) ?? 'RUNNING' }]));
			},
		};
		return { session, looks };
	}
	/** Waits on `id` turn after turn until `until` says stop; resolves with how many own reads it made. */
	async function waitLoop(scheduler: PollScheduler, id: string, deadline: number, until: () => boolean, signal: AbortSignal) {
		let reads = 0;
		while (!until() && Date.now() < deadline) {
			await scheduler.waitTurn(id, deadline, signal).catch(() => undefined);
			// waitTurn also resolves at the deadline; a timer may fire a few ms before Date.now() says so.
			if (until() || signal.aborted || Date.now() >= deadline - 25) break;
			await scheduler.takeQuery(signal).catch(() => undefined);
			reads++;
			scheduler.observe(id, { taskId: id, status: 'RUNNING' }, Date.now());
		}
		return reads;
	}

	test('three tasks waited on: looks (not own reads) watch them, within the credit of 1.35 × the SDKs schedule + the overdraft', async () => {
		const { session, looks } = lookingSession(new Map());
		const scheduler = new PollScheduler(session);
		const stop = new AbortController();
		const start = Date.now();
		const ids = ['a', 'b', 'c'];
		for (const id of ids) scheduler.track(id, start);
		const deadline = start + 3000;
		const reads = await Promise.all(ids.map((id) => waitLoop(scheduler, id, deadline, () => false, stop.signal)));
		stop.abort();
		for (const id of ids) scheduler.forget(id);
		expect(looks.length).toBeGreaterThan(0);
		expect(looks.every((look) => look.ids.length >= 2)).toBe(true);
		// Own reads only as the occasional backup (none within 3 s).
		expect(reads).toEqual([0, 0, 0]);
		// Credit by 3 s: 3 tasks × 1.35 × (SDK polls at 0, 1, 2 s) = 12.15, + overdraft 2 (+1 for timer slack).
		expect(looks.length).toBeLessThanOrEqual(Math.floor(3 * 1.35 * sdkPollsWithin(3000)) + 2 + 1);
		// Never two looks closer than the minimum gap.
		for (let i = 1; i < looks.length; i++) expect(looks[i].at - looks[i - 1].at).toBeGreaterThanOrEqual(MIN_GAP_MS - 5);
	});

	test('a look that fails for good is not repeated: the waits go back to their own plans', async () => {
		const { session, looks } = lookingSession(new Map(), () => new ApiError({ code: 'AccessDenied', message: 'no list for you', httpStatus: 403, retryable: false }));
		const scheduler = new PollScheduler(session);
		const stop = new AbortController();
		const start = Date.now();
		for (const id of ['a', 'b']) scheduler.track(id, start);
		const reads = await Promise.all(['a', 'b'].map((id) => waitLoop(scheduler, id, start + 2500, () => false, stop.signal)));
		stop.abort();
		scheduler.forget('a');
		scheduler.forget('b');
		expect(looks).toHaveLength(1);
		// Back on their own plans: the lead task (every 0.6 s) is read again within 2.5 s.
		expect(Math.max(...reads)).toBeGreaterThanOrEqual(2);
	});

	test('looks that show none of the tasks are given up after three, once the tasks are old enough to be listed (30 s)', async () => {
		const { session, looks } = lookingSession(new Map());
		const empty: WanSession = { ...session, lookAtTasks: async (ids) => (await session.lookAtTasks!(ids, {}), new Map()) };
		const scheduler = new PollScheduler(empty);
		const stop = new AbortController();
		const start = Date.now();
		for (const id of ['a', 'b']) scheduler.track(id, start - 31_000);
		await Promise.all(['a', 'b'].map((id) => waitLoop(scheduler, id, start + 2500, () => false, stop.signal)));
		stop.abort();
		scheduler.forget('a');
		scheduler.forget('b');
		expect(looks).toHaveLength(3);
	});

	test('a task a look saw end wakes its wait at once', async () => {
		const state = new Map<string, TaskGlance['status']>();
		const { session, looks } = lookingSession(state);
		const scheduler = new PollScheduler(session);
		const stop = new AbortController();
		const start = Date.now();
		for (const id of ['a', 'b']) scheduler.track(id, start);
		setTimeout(() => state.set('b', 'SUCCEEDED'), 700);
		const wait = scheduler.waitTurn('a', start + 20_000, stop.signal);
		wait.catch(() => undefined);
		const woke = await scheduler.waitTurn('b', start + 20_000, stop.signal).then(() => Date.now());
		stop.abort();
		scheduler.forget('a');
		scheduler.forget('b');
		const sawIt = looks.find((look) => look.at >= start + 700)!;
		expect(sawIt).toBeDefined();
		// Woken by the look that saw it (not its 15 s backup read), right after that look answered.
		expect(woke - sawIt.at).toBeLessThan(200);
	});
});

describe('AIMD', () => {
	test("the account limiter halves its rate on a 429 (once per window) and earns it back answer by answer", () => {
		let now = 0;
		const limiter = new SlidingWindowLimiter(20, 1200, () => now);
		limiter.throttled();
		limiter.throttled(); // the same burst: one signal
		expect(limiter.currentLimit()).toBe(10);
		now += 1200;
		limiter.throttled(); // (10 + 1 for the quiet window) / 2
		expect(limiter.currentLimit()).toBe(5);
		for (let i = 0; i < 5; i++) limiter.succeeded();
		expect(limiter.currentLimit()).toBe(6); // 5 answers ≈ +1 at a limit of 5.5
		for (let i = 0; i < 200; i++) limiter.succeeded();
		expect(limiter.currentLimit()).toBe(20);
		expect(limiter.ratePerSecond()).toBeCloseTo(16.67, 1);
	});

	test('…and by one for every window without a 429, so a process that sends little recovers too', () => {
		let now = 0;
		const limiter = new SlidingWindowLimiter(5, 1200, () => now);
		limiter.throttled();
		now += 1200;
		limiter.throttled(); // 5 → 2.5 → 1.25
		expect(limiter.currentLimit()).toBe(1);
		now += 1199;
		expect(limiter.currentLimit()).toBe(1);
		now += 1;
		expect(limiter.currentLimit()).toBe(2); // 2.25
		now += 2 * 1200;
		expect(limiter.currentLimit()).toBe(4); // 4.25
		limiter.throttled(); // a new 429 halves and restarts the count
		expect(limiter.currentLimit()).toBe(2);
		now += 10 * 1200;
		expect(limiter.currentLimit()).toBe(5);
	});

	test('task places shrink on a 429, grow as tasks end, and are never below one', async () => {
		const places = new TaskPlaces(5);
		const held: Array<() => void> = [];
		for (let i = 0; i < 5; i++) held.push(await places.take());
		places.shrink(); // 5 × 0.7 = 3.5: three places
		for (const release of held.splice(0)) release();
		for (let i = 0; i < 3; i++) held.push(await places.take());
		let fourth = false;
		void places.take().then((release) => {
			fourth = true;
			held.push(release);
		});
		await new Promise((resolve) => setImmediate(resolve));
		expect(fourth).toBe(false);
		places.grow(); // 3.5 + 0.5 = 4
		await new Promise((resolve) => setImmediate(resolve));
		expect(fourth).toBe(true);
		places.close();
		for (const release of held) release();
	});
});
