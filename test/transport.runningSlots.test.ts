/**
 * The running-task slot gate (transport/runningSlots.ts) on its own: open until a 429, then one submit
 * per slot one of our tasks freed and one probe per Retry-After, reopened by an accepted probe.
 */
import { RunningSlots, resetRunningSlots, runningSlots, taskEnded, taskStarted } from '../nodes/AlibabaWan/transport/runningSlots';

/** Settles pending promise callbacks (the gate resolves waiters synchronously). */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Starts `count` waiters and records the ticket each one got, in the order they got it. */
function waiters(gate: RunningSlots, count: number, signal?: AbortSignal) {
	const got: Array<[number, string]> = [];
	const promises = Array.from({ length: count }, (_, i) => gate.acquire(signal).then((ticket) => void got.push([i, ticket])));
	return { got, promises };
}

afterEach(() => resetRunningSlots());

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

test('one probe per Retry-After; a refused probe waits for the next one, an accepted probe reopens for everyone', async () => {
	const gate = new RunningSlots();
	gate.refused(40);
	const { got, promises } = waiters(gate, 3);
	await tick();
	expect(got).toEqual([]);
	await new Promise((resolve) => setTimeout(resolve, 80));
	expect(got).toEqual([[0, 'probe']]);
	gate.refused(40); // the probe met the limit again
	await new Promise((resolve) => setTimeout(resolve, 20));
	expect(got).toHaveLength(1); // not before its Retry-After
	await new Promise((resolve) => setTimeout(resolve, 60));
	expect(got).toEqual([
		[0, 'probe'],
		[1, 'probe'],
	]);
	gate.accepted('probe');
	await Promise.all(promises);
	expect(got[2]).toEqual([2, 'open']);
	expect(gate.isFull).toBe(false);
	expect(await gate.acquire()).toBe('open');
});

test('a refusal clears the freed slots: they were taken by another client', async () => {
	const gate = new RunningSlots();
	gate.refused(60_000);
	gate.taskEnded();
	gate.taskEnded();
	expect(await gate.acquire()).toBe('freed');
	gate.refused(60_000);
	const { got } = waiters(gate, 1);
	await tick();
	expect(got).toEqual([]);
});

test('a ticket not answered either way (network failure, abort) goes to the next waiter', async () => {
	const gate = new RunningSlots();
	gate.refused(60_000);
	gate.taskEnded();
	expect(await gate.acquire()).toBe('freed');
	const { got } = waiters(gate, 1);
	await tick();
	expect(got).toEqual([]);
	gate.unused('freed');
	await tick();
	expect(got).toEqual([[0, 'freed']]);
	// An unused probe: the next submit goes as the probe at once.
	gate.unused('probe');
	expect(await gate.acquire()).toBe('probe');
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
