/**
 * The running-task slot gate (transport/runningSlots.ts) on its own: open until a 429, then one submit
 * per slot one of our tasks freed and one probe per Retry-After; accepted probes reopen it step by step.
 */
import { isRunningTaskLimit } from '../nodes/AlibabaWan/services/dashscope/errors';
import { ApiError } from '../nodes/AlibabaWan/transport';
import { RunningSlots, resetRunningSlots, runningSlots, taskEnded, taskStarted } from '../nodes/AlibabaWan/transport/runningSlots';

/** Settles pending promise callbacks (the gate resolves waiters synchronously). */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Starts `count` waiters and records the ticket each one got, in the order they got it. */
function waiters(gate: RunningSlots, count: number, signal?: AbortSignal) {
	const got: Array<[number, string]> = [];
	const promises = Array.from({ length: count }, (_, i) => gate.acquire(signal).then((ticket) => void got.push([i, ticket])));
	return { got, promises };
}

/** The next submit waits exactly `ms` (fake timers) and then goes as a probe. */
async function expectProbeAfter(gate: RunningSlots, ms: number): Promise<void> {
	const next = waiters(gate, 1);
	await jest.advanceTimersByTimeAsync(ms - 1);
	expect(next.got).toEqual([]);
	await jest.advanceTimersByTimeAsync(1);
	expect(next.got).toEqual([[0, 'probe']]);
}

afterEach(() => {
	jest.useRealTimers();
	resetRunningSlots();
});

test('open until a submit is refused: every submit passes at once', async () => {
	const gate = new RunningSlots();
	expect(await Promise.all([gate.acquire(), gate.acquire(), gate.acquire()])).toEqual(['open', 'open', 'open']);
	gate.taskEnded(); // an end while open gives no credit for later
	gate.refused(60_000);
	const { got } = waiters(gate, 1);
	await tick();
	expect(got).toEqual([]);
	expect(gate.isFull).toBe(true);
});

test('after a 429 each of our ended tasks lets exactly one waiter go, first come first served', async () => {
	const gate = new RunningSlots();
	gate.refused(60_000);
	const { got } = waiters(gate, 3);
	await tick();
	expect(got).toEqual([]);
	gate.taskEnded();
	await tick();
	expect(got).toEqual([[0, 'freed']]);
	gate.taskEnded();
	gate.taskEnded();
	await tick();
	expect(got).toEqual([
		[0, 'freed'],
		[1, 'freed'],
		[2, 'freed'],
	]);
	// A freed slot nobody waited for is kept for the next submit; an accepted 'freed' submit keeps the gate closed.
	gate.taskEnded();
	expect(await gate.acquire()).toBe('freed');
	gate.accepted('freed');
	expect(gate.isFull).toBe(true);
});

test('one probe per Retry-After; a refused probe waits for the next one; accepted probes send the next at once and reopen after three', async () => {
	jest.useFakeTimers();
	const gate = new RunningSlots();
	gate.refused(2_000);
	const { got, promises } = waiters(gate, 6);
	await jest.advanceTimersByTimeAsync(1_999);
	expect(got).toEqual([]);
	await jest.advanceTimersByTimeAsync(1);
	expect(got).toEqual([[0, 'probe']]);
	gate.refused(2_000, Date.now(), 'probe'); // the probe met the limit again
	await jest.advanceTimersByTimeAsync(1_999);
	expect(got).toHaveLength(1); // not before its Retry-After
	await jest.advanceTimersByTimeAsync(1);
	expect(got[1]).toEqual([1, 'probe']);
	// Slow start: each accepted probe lets one more go, the third reopens for everyone.
	gate.accepted('probe');
	await jest.advanceTimersByTimeAsync(0);
	expect(got[2]).toEqual([2, 'probe']);
	expect(got).toHaveLength(3);
	gate.accepted('probe');
	await jest.advanceTimersByTimeAsync(0);
	expect(got).toHaveLength(4);
	gate.accepted('probe');
	await Promise.all(promises);
	expect(got.slice(4)).toEqual([
		[4, 'open'],
		[5, 'open'],
	]);
	expect(gate.isFull).toBe(false);
	expect(await gate.acquire()).toBe('open');
});

test('a Retry-After of 0 (or none) does not probe in a loop: at least 1 s, doubling without a Retry-After', async () => {
	jest.useFakeTimers();
	const gate = new RunningSlots();
	gate.refused(0);
	await expectProbeAfter(gate, 1_000);
	gate.refused(undefined, Date.now(), 'probe'); // second refusal in a row, no Retry-After: 2 s
	await expectProbeAfter(gate, 2_000);
});

test('a refusal drops the slots freed before its submit was sent (another client took them), not those freed after', async () => {
	let now = 1_000;
	const gate = new RunningSlots(() => now);
	gate.refused(60_000, 900, 'probe');
	gate.taskEnded(); // freed at 1000
	now = 2_000;
	gate.taskEnded(); // freed at 2000
	gate.refused(60_000, 1_500, 'probe'); // sent at 1500: after the first end, before the second
	expect(await gate.acquire()).toBe('freed');
	const { got } = waiters(gate, 1);
	await tick();
	expect(got).toEqual([]);
});

test('answers that arrive late change nothing: an older refusal neither moves the probe nor drops slots; submits sent before the gate closed add no backoff', async () => {
	jest.useFakeTimers();
	let sent = 0;
	const gate = new RunningSlots();
	gate.refused(2_000, (sent = Date.now()), 'probe');
	const { got } = waiters(gate, 1);
	await jest.advanceTimersByTimeAsync(1_000);
	gate.refused(10_000, sent - 1, 'probe'); // an older probe's refusal arriving late
	gate.refused(undefined, Date.now(), 'open'); // a submit sent before the gate closed
	await jest.advanceTimersByTimeAsync(1_000);
	expect(got).toEqual([[0, 'probe']]); // still at 2 s
	// An acceptance of a probe sent before the newest refusal does not count towards reopening.
	gate.refused(2_000, Date.now(), 'probe');
	gate.accepted('probe', Date.now() - 1);
	gate.accepted('probe', Date.now() - 1);
	gate.accepted('probe', Date.now() - 1);
	expect(gate.isFull).toBe(true);
});

test('a refusal of a submit sent before the gate reopened does not close it again', async () => {
	let now = 0;
	const gate = new RunningSlots(() => now);
	gate.refused(1_000, 0, 'probe');
	for (let i = 1; i <= 3; i++) gate.accepted('probe', (now = 1_000 * i));
	expect(gate.isFull).toBe(false);
	gate.refused(1_000, 2_500, 'open'); // sent before the reopening probe (3000)
	expect(gate.isFull).toBe(false);
	gate.refused(1_000, 3_500, 'open');
	expect(gate.isFull).toBe(true);
});

test('a ticket that provably created nothing goes to the next waiter; a lost probe is replaced by a later one', async () => {
	jest.useFakeTimers();
	const gate = new RunningSlots();
	gate.refused(5_000);
	gate.taskEnded();
	expect(await gate.acquire()).toBe('freed');
	const { got } = waiters(gate, 2);
	await jest.advanceTimersByTimeAsync(0);
	expect(got).toEqual([]);
	gate.unused('freed');
	await jest.advanceTimersByTimeAsync(0);
	expect(got).toEqual([[0, 'freed']]);
	// The probe's answer was lost and the task list could not tell: its slot counts as taken, a new probe follows.
	await jest.advanceTimersByTimeAsync(5_000);
	expect(got).toEqual([[0, 'freed'], [1, 'probe']]);
	gate.lost('probe');
	await expectProbeAfter(gate, 1_000);
});

test('an aborted waiter leaves the queue and does not take a freed slot', async () => {
	const gate = new RunningSlots();
	gate.refused(60_000);
	const stop = new AbortController();
	const aborted = gate.acquire(stop.signal);
	const { got } = waiters(gate, 1);
	stop.abort();
	await expect(aborted).rejects.toMatchObject({ code: 'Aborted' });
	gate.taskEnded();
	await tick();
	expect(got).toEqual([[0, 'freed']]);
	await expect(gate.acquire(stop.signal)).rejects.toMatchObject({ code: 'Aborted' });
});

test('a gate nobody was refused by for a minute reopens on the next submit, once its probe time has passed', async () => {
	jest.useFakeTimers();
	const gate = new RunningSlots();
	gate.refused(5_000);
	await jest.advanceTimersByTimeAsync(59_999);
	const { got } = waiters(gate, 1);
	await jest.advanceTimersByTimeAsync(0);
	expect(got).toEqual([[0, 'probe']]); // the probe time came first
	gate.unused('probe');
	await jest.advanceTimersByTimeAsync(1);
	expect(await gate.acquire()).toBe('open');
	expect(gate.isFull).toBe(false);
	// A Retry-After longer than the quiet minute is still honoured.
	gate.refused(3_600_000);
	await jest.advanceTimersByTimeAsync(61_000);
	const held = waiters(gate, 1);
	await jest.advanceTimersByTimeAsync(0);
	expect(held.got).toEqual([]);
});

test('task IDs lead an end to their gate (per account and model); unknown and repeated ends are ignored', async () => {
	const a = runningSlots('origin#key#wan2.7-image');
	const b = runningSlots('origin#key#wan2.6-image');
	expect(runningSlots('origin#key#wan2.7-image')).toBe(a);
	a.refused(60_000);
	b.refused(60_000);
	taskStarted(a, 'task-a');
	const waitingA = waiters(a, 2);
	const waitingB = waiters(b, 1);
	taskEnded('unknown-task');
	taskEnded('task-a');
	taskEnded('task-a'); // read again: its slot was already counted
	await tick();
	expect(waitingA.got).toEqual([[0, 'freed']]);
	expect(waitingB.got).toEqual([]);
});

test("DashScope: a 429 is taken as the running-task limit unless its code names the request rate or the quota", () => {
	const answer = (code: string, message = 'x', httpStatus = 429) => new ApiError({ code, message, httpStatus });
	expect(isRunningTaskLimit(answer('Throttling'))).toBe(true);
	expect(isRunningTaskLimit(answer('Throttling.RateQuota'))).toBe(false);
	expect(isRunningTaskLimit(answer('Throttling.BurstRate'))).toBe(false);
	expect(isRunningTaskLimit(answer('LimitRequests'))).toBe(false);
	expect(isRunningTaskLimit(answer('Throttling.AllocationQuota', 'Free allocated quota exceeded.'))).toBe(false);
	expect(isRunningTaskLimit(answer('Throttling', 'x', 503))).toBe(false);
});
