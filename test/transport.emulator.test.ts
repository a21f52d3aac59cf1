/**
 * The transport against the DashScope emulator over real HTTP on 127.0.0.1: the happy path, which
 * failures are retried (emulator counters prove the attempts), which never are for billable creates,
 * pacing, cancellation, and error mapping.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeApiError } from 'n8n-workflow';
import { ApiError, toNodeApiError, type RetryEvent } from '../nodes/AlibabaWan/transport';
import {
	cancelTask,
	downloadResult,
	getTask,
	listTasks,
	submitTask,
} from '../nodes/AlibabaWan/services/dashscope/dashScopeApi';
import type { DashScopeEndpoint, TaskResponse } from '../nodes/AlibabaWan/services/dashscope/types';
import { EMULATOR_KEYS, startEmulator, type Emulator } from './emulator';
import type { FaultAction, RequestKind } from './emulator/types';
import { FAST, T2I, TEST_NODE, caught, setupTransportEmulator, submitAsAnotherClient } from './fixtures/transport';

const setup = setupTransportEmulator();
let emu: Emulator;
let ep: DashScopeEndpoint;
beforeAll(() => {
	emu = setup.emu();
	ep = setup.ep();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When the emulator received each request of this kind, earliest first. */
function requestTimes(kind: RequestKind): number[] {
	return emu
		.requests()
		.filter((r) => r.kind === kind)
		.map((r) => r.at)
		.sort((a, b) => a - b);
}

async function pollUntilTerminal(taskId: string): Promise<TaskResponse> {
	for (let i = 0; i < 200; i++) {
		const task = await getTask(ep, taskId, { retry: FAST });
		if (['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN'].includes(task.output.task_status)) return task;
		await wait(25);
	}
	throw new Error('task never finished');
}

function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const server = http.createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

describe('happy path', () => {
	it('submits, polls to SUCCEEDED and streams the PNG result', async () => {
		const submitted = await submitTask(ep, 'image-generation', T2I, { model: 'wan2.7-image' });
		expect(submitted.taskId).toEqual(expect.any(String));
		expect(submitted.taskStatus).toBe('PENDING');
		expect(submitted.requestId).not.toBe('');

		const sent = emu.requests().find((r) => r.kind === 'submit')!;
		expect(sent.path).toMatch(/\/services\/aigc\/image-generation\/generation$/);
		expect(sent.headers.authorization).toBe(`Bearer ${ep.apiKey}`);
		expect(sent.headers['x-dashscope-async']).toBe('enable');
		expect(sent.headers['content-type']).toBe('application/json');
		expect(sent.headers['x-dashscope-ossresourceresolve']).toBeUndefined();
		expect(sent.body).toEqual(T2I);

		const task = await pollUntilTerminal(submitted.taskId);
		expect(task.output.task_status).toBe('SUCCEEDED');
		const url = task.output.choices?.[0]?.message?.content?.find((c) => c.image)?.image;
		expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*\.png\?/);

		const downloaded = await downloadResult(url!);
		expect(downloaded.contentType).toBe('image/png');
		const parts: Buffer[] = [];
		for await (const chunk of downloaded.body) parts.push(Buffer.from(chunk));
		const png = Buffer.concat(parts);
		expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
		if (downloaded.contentLength !== undefined) expect(png.length).toBe(downloaded.contentLength);
		const download = emu.requests().find((r) => r.kind === 'result')!;
		expect(download.headers.authorization).toBeUndefined();
		expect(emu.counters().resultDownloads).toBe(1);
	});

	it('sends X-DashScope-OssResourceResolve when the body references oss://', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 400, code: 'InvalidParameter', message: 'stop here' } });
		const withOss = {
			model: 'wan2.7-image',
			input: { messages: [{ role: 'user', content: [{ image: 'oss://dashscope-instant/x/in.png' }, { text: 'edit' }] }] },
			parameters: {},
		};
		const error = await caught(submitTask(ep, 'image-generation', withOss));
		expect(error).toMatchObject({ code: 'InvalidParameter', httpStatus: 400, taskMayExist: false });
		expect(emu.requests()[0].headers['x-dashscope-ossresourceresolve']).toBe('enable');
	});

	it('cancels a PENDING task and lists tasks', async () => {
		emu.setTiming({ pendingMs: 5000, runningMs: 5000, syncDelayMs: 10 });
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'cancel' }, action: { type: 'http', status: 503 } });
		const cancelled = await cancelTask(ep, taskId, { retry: FAST });
		expect(typeof cancelled.requestId).toBe('string');
		expect(emu.counters().cancels).toBe(2); // one 503, then the real cancel
		const cancelRequest = emu.requests().filter((r) => r.kind === 'cancel').pop()!;
		expect(cancelRequest.method).toBe('POST');
		expect(cancelRequest.body).toBeUndefined();
		expect((await getTask(ep, taskId)).output.task_status).toBe('CANCELED');

		const list = await listTasks(ep, { pageNo: 1, pageSize: 10 });
		expect(list.tasks.map((t) => t.task_id)).toContain(taskId);
		expect(emu.requests().filter((r) => r.kind === 'list')[0].path).toMatch(/page_no=1&page_size=10/);
	});

	it('refuses task IDs that would address another endpoint, without sending anything', async () => {
		for (const id of ['.', '..', 'a/b', 'a b', '%2e%2e', 'a\\b', '']) {
			await expect(getTask(ep, id, { retry: FAST })).rejects.toThrow(/task ID/);
			await expect(cancelTask(ep, id, { retry: FAST })).rejects.toThrow(/task ID/);
		}
		expect(emu.requests()).toHaveLength(0);
	});
});

describe('reads are retried', () => {
	const cases: Array<[string, FaultAction]> = [
		['503', { type: 'http', status: 503 }],
		['500', { type: 'http', status: 500, code: 'InternalError' }],
		['a reset', { type: 'reset' }],
		['429 Throttling', { type: 'http', status: 429, code: 'Throttling.RateQuota' }],
	];
	it.each(cases)('getTask survives two %s answers (3 queries reach the emulator)', async (_name, action) => {
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'query' }, times: 2, action });
		const before = emu.counters().queries;
		const retries: RetryEvent[] = [];
		const task = await getTask(ep, taskId, { retry: FAST, onRetry: (e) => retries.push(e) });
		expect(task.output.task_id).toBe(taskId);
		expect(emu.counters().queries - before).toBe(3);
		expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
	});

	it('honours Retry-After on 429', async () => {
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'query' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 1 } });
		const started = Date.now();
		await getTask(ep, taskId, { retry: FAST });
		expect(Date.now() - started).toBeGreaterThanOrEqual(950);
		expect(emu.counters().queries).toBe(2);
	});

	it('a 429 holds the other requests of the same account for Retry-After (no 429 pile-up)', async () => {
		const a = await submitTask(ep, 'image-generation', T2I);
		const b = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'query', taskId: a.taskId }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 1 } });
		const first = getTask(ep, a.taskId, { retry: FAST });
		await wait(100);
		await Promise.all([first, getTask(ep, b.taskId, { retry: FAST })]);
		const queries = emu.requests().filter((r) => r.kind === 'query');
		const throttledAt = queries.find((r) => r.status === 429)!.at;
		const otherAt = queries.find((r) => r.path.endsWith(b.taskId))!.at;
		expect(otherAt - throttledAt).toBeGreaterThanOrEqual(900);
	});

	it('does not sleep through a Retry-After longer than maxRetryAfterMs: surfaces it for n8n instead', async () => {
		emu.injectFault({ match: { kind: 'query' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 120 } });
		const started = Date.now();
		const error = await caught(getTask(ep, 'some-task', { retry: FAST }));
		expect(Date.now() - started).toBeLessThan(500);
		expect(error).toMatchObject({ code: 'Throttling', httpStatus: 429, retryAfterMs: 120_000, retryable: true });
		expect(emu.counters().queries).toBe(1);
		expect(toNodeApiError(TEST_NODE, error, {}).failure).toEqual({ cause: 'rate-limited', retryAfterMs: 120_000 });
	});

	it('gives up after maxAttempts, and never retries 4xx or exhausted quota', async () => {
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'query' }, times: 10, action: { type: 'http', status: 503 } });
		const exhausted = await caught(getTask(ep, taskId, { retry: { ...FAST, maxAttempts: 3 } }));
		expect(exhausted).toMatchObject({ httpStatus: 503, retryable: true, taskId });
		expect(emu.counters().queries).toBe(3);

		emu.reset();
		emu.injectFault({ match: { kind: 'query' }, action: { type: 'http', status: 400, code: 'InvalidParameter' } });
		expect((await caught(getTask(ep, 'some-task', { retry: FAST }))).retryable).toBe(false);
		expect(emu.counters().queries).toBe(1);

		emu.reset();
		emu.injectFault({
			match: { kind: 'query' },
			action: { type: 'http', status: 429, code: 'Throttling.AllocationQuota', message: 'Free allocated quota exceeded.' },
		});
		const quota = await caught(getTask(ep, 'some-task', { retry: FAST }));
		expect(quota.code).toBe('Throttling.AllocationQuota');
		expect(quota.hint).toMatch(/Retrying will not help/);
		expect(emu.counters().queries).toBe(1);
		expect(toNodeApiError(TEST_NODE, quota, {}).failure).toEqual({ cause: 'quota-exhausted' });
	});
});

describe('submits (billable) are retried only when no task can exist', () => {
	it('retries 429 Throttling and 503 ModelUnavailable: one task, several attempts', async () => {
		emu.injectFault({ match: { kind: 'submit' }, times: 2, action: { type: 'http', status: 429, code: 'Throttling.RateQuota' } });
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 503, code: 'ModelUnavailable' } });
		const result = await submitTask(ep, 'image-generation', T2I, { retry: FAST });
		expect(result.taskId).toEqual(expect.any(String));
		expect(emu.counters().submitAttempts).toBe(4);
		expect(emu.counters().submissions).toBe(1);
	});

	it('retries connection refused until the service is there', async () => {
		const port = await freePort();
		let late: Emulator | undefined;
		const retries: RetryEvent[] = [];
		try {
			const result = await submitTask(
				{ baseUrl: `http://127.0.0.1:${port}/ap-southeast-1/api/v1`, apiKey: ep.apiKey },
				'image-generation',
				T2I,
				{
					retry: { baseDelayMs: 100, maxDelayMs: 200, maxAttempts: 30 },
					onRetry: (event) => {
						retries.push(event);
						if (!late) void startEmulator({ port }).then((e) => (late = e));
					},
				},
			);
			expect(result.taskId).toEqual(expect.any(String));
			expect(retries[0].error.code).toBe('ECONNREFUSED');
			expect(late!.counters().submissions).toBe(1);
		} finally {
			await late?.close();
		}
	});

	// An answer that could follow acceptance is never answered by a blind resend: the task list decides.
	const accepted: Array<[string, FaultAction, 'request-id' | 'only-candidate']> = [
		['reset after accept', { type: 'reset-after-accept' }, 'only-candidate'],
		['500 after accept', { type: 'http-after-accept', status: 500, code: 'InternalError' }, 'request-id'],
		['503 with a DashScope body after accept', { type: 'http-after-accept', status: 503, code: 'ModelUnavailable' }, 'request-id'],
		['429 after accept', { type: 'http-after-accept', status: 429, code: 'Throttling' }, 'request-id'],
	];
	it.each(accepted)('%s: the task is found in the task list and adopted, never submitted again', async (_name, action, how) => {
		emu.injectFault({ match: { kind: 'submit' }, action });
		const result = await submitTask(ep, 'image-generation', T2I, { retry: FAST });
		expect(emu.counters().submitAttempts).toBe(1);
		expect(emu.counters().submissions).toBe(1);
		expect(emu.counters().lists).toBeGreaterThanOrEqual(1);
		const created = emu.requests().find((r) => r.kind === 'submit')!;
		expect(result.taskId).toBe(emu.task(result.taskId)?.taskId);
		expect(emu.task(result.taskId)!.request).toEqual(created.body);
		expect(result.adopted).toBe(how);
	});

	const refused: Array<[string, FaultAction]> = [
		['a plain 500', { type: 'http', status: 500, code: 'InternalError' }],
		['a 502 (gateway)', { type: 'http', status: 502 }],
		// Byte-for-byte the same as "reset after accept" from the client's side; the list tells them apart.
		['a reset after the body was sent (before accept)', { type: 'reset' }],
	];
	it.each(refused)('%s: the task list provably shows no task, so the submit is sent again: one task', async (_name, action) => {
		emu.injectFault({ match: { kind: 'submit' }, action });
		const result = await submitTask(ep, 'image-generation', T2I, { retry: FAST });
		expect(result.adopted).toBeUndefined();
		expect(emu.counters().submitAttempts).toBe(2);
		expect(emu.counters().submissions).toBe(1);
		// Looked twice (a task may show in the list a moment late) before resending.
		expect(emu.counters().lists).toBeGreaterThanOrEqual(2);
		const kinds = emu.requests().map((r) => r.kind);
		expect(kinds.indexOf('list')).toBeLessThan(kinds.lastIndexOf('submit'));
	});

	it("another client's task in the same seconds makes the match uncertain: both reported as candidates, nothing resent", async () => {
		// Created outside this process (a plain fetch), so nothing here has claimed it.
		const otherTaskId = await submitAsAnotherClient(ep);
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
		const error = await caught(submitTask(ep, 'image-generation', T2I, { retry: FAST }));
		expect(error).toBeInstanceOf(ApiError);
		expect(error).toMatchObject({ taskMayExist: true, retryable: false });
		expect(emu.counters().submissions).toBe(2);
		expect(emu.counters().submitAttempts).toBe(2);
		expect(error.candidateTaskIds).toHaveLength(2);
		expect(error.candidateTaskIds).toContain(otherTaskId);
		for (const id of error.candidateTaskIds!) expect(emu.task(id)).toBeDefined();
		expect(error.hint).toMatch(/may be this item's/);
	});

	// The list's times are wall-clock times in an unstated zone. Moving the emulator's clock 6 h ahead of
	// ours makes its times read as UTC+14 would: the zone the node assumes (UTC+8) is then wrong.
	it('a service zone other than UTC+8 is learned from a task this process created: the lost task is still found', async () => {
		const zoneEp = { baseUrl: ep.baseUrl, apiKey: 'sk-zone-learned' };
		emu.addKey(zoneEp.apiKey, 'ap-southeast-1');
		emu.advanceClock(6 * 3600_000);
		const first = await submitTask(zoneEp, 'image-generation', T2I, { retry: FAST });
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
		const second = await submitTask(zoneEp, 'image-generation', T2I, { retry: FAST });
		expect(second.adopted).toBe('only-candidate');
		expect(second.taskId).not.toBe(first.taskId);
		expect(emu.counters()).toMatchObject({ submitAttempts: 2, submissions: 2 });
	});

	it('with the zone not yet known, a lost task that fits only another zone is reported, never resent', async () => {
		const zoneEp = { baseUrl: ep.baseUrl, apiKey: 'sk-zone-unknown' };
		emu.addKey(zoneEp.apiKey, 'ap-southeast-1');
		emu.advanceClock(6 * 3600_000);
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
		const error = await caught(submitTask(zoneEp, 'image-generation', T2I, { retry: FAST }));
		expect(error).toMatchObject({ taskMayExist: true, retryable: false });
		expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 1 });
		expect(error.candidateTaskIds).toHaveLength(1);
		expect(emu.task(error.candidateTaskIds![0])).toBeDefined();
		expect(error.hint).toMatch(/time zone is not known yet/);
	});

	it('a submit whose answer is too slow (timeout) is matched in the task list, not resent', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'delay', ms: 1500 } });
		const result = await submitTask(ep, 'image-generation', T2I, { retry: FAST, timeoutMs: 300 });
		expect(result.adopted).toBe('only-candidate');
		await wait(500);
		expect(emu.counters().submitAttempts).toBe(1);
		expect(emu.counters().submissions).toBe(1);
	});

	it('a rate-limit 429 whose Retry-After exceeds 60 s is waited out within the deadline, not failed', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 61 } });
		const controller = new AbortController();
		let settled = false;
		const pending = caught(
			submitTask(ep, 'image-generation', T2I, { retry: FAST, signal: controller.signal, deadline: Date.now() + 300_000 }).finally(() => {
				settled = true;
			}),
		);
		// Past the task-list check (two looks), now sleeping out the Retry-After.
		await wait(2500);
		expect(settled).toBe(false);
		expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 0 });
		controller.abort();
		const error = await pending;
		expect(error).toMatchObject({ code: 'Aborted', taskMayExist: false });
	});

	it('a Retry-After longer than what is left before the deadline ends the submit at once, nothing created', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 120 } });
		const error = await caught(submitTask(ep, 'image-generation', T2I, { retry: FAST, deadline: Date.now() + 10_000 }));
		expect(error.message).toMatch(/asked to wait 120 s, longer than what is left of the Timeout/);
		expect(error.taskMayExist).toBe(false);
		expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 0 });
	});

	it('a submit held back by a 429 pause gives up at its own deadline, with nothing sent', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 30 } });
		const controller = new AbortController();
		const first = caught(submitTask(ep, 'image-generation', T2I, { retry: FAST, signal: controller.signal, deadline: Date.now() + 60_000 }));
		// The first one has read its 429 (the account is paused) once it consults the task list.
		while (emu.counters().lists === 0) await wait(20);
		const second = await caught(submitTask(ep, 'image-generation', T2I, { retry: FAST, deadline: Date.now() + 1500 }));
		expect(second).toMatchObject({ code: 'Timeout', taskMayExist: false });
		expect(second.message).toMatch(/Timeout passed while waiting for a free slot/);
		expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 0 });
		controller.abort();
		expect(await first).toMatchObject({ code: 'Aborted' });
	});

	it('a deadline bounds every attempt of a read: a hanging status check is cut, not waited for', async () => {
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		emu.injectFault({ match: { kind: 'query' }, times: 10, action: { type: 'delay', ms: 5000 } });
		const error = await caught(getTask(ep, taskId, { retry: FAST, deadline: Date.now() + 500 }));
		expect(error.code).toBe('Timeout');
		// Given up before the emulator answered even the first slow check.
		expect(emu.requests().filter((r) => r.kind === 'query').every((r) => r.status === 0)).toBe(true);
	});

	it('paces a concurrent batch at <= 5 submissions per second (no 429s)', async () => {
		const results = await Promise.all(Array.from({ length: 12 }, () => submitTask(ep, 'image-generation', T2I, { retry: FAST })));
		expect(new Set(results.map((r) => r.taskId)).size).toBe(12);
		const times = requestTimes('submit');
		expect(times).toHaveLength(12);
		for (let i = 5; i < times.length; i++) expect(times[i] - times[i - 5]).toBeGreaterThanOrEqual(1000);
		expect(emu.counters().throttled).toBe(0);
	});

	it('paces queries at <= 20 per second', async () => {
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		await Promise.all(Array.from({ length: 30 }, () => getTask(ep, taskId, { retry: FAST })));
		expect(emu.requests().filter((r) => r.kind === 'query').map((r) => r.status).filter((st) => st !== 200)).toEqual([]);
		const times = requestTimes('query');
		expect(times).toHaveLength(30);
		for (let i = 20; i < times.length; i++) expect(times[i] - times[i - 20]).toBeGreaterThanOrEqual(1000);
		expect(emu.counters().throttled).toBe(0);
	});
});

describe('cancellation', () => {
	it('aborts an in-flight request promptly with code Aborted', async () => {
		emu.injectFault({ match: { kind: 'query' }, action: { type: 'delay', ms: 5000 } });
		const controller = new AbortController();
		const started = Date.now();
		setTimeout(() => controller.abort(), 100);
		const error = await caught(getTask(ep, 'whatever', { signal: controller.signal, retry: FAST }));
		expect(error.code).toBe('Aborted');
		expect(Date.now() - started).toBeLessThan(1000);
		expect(emu.counters().queries).toBe(1);
	});

	it('aborts a backoff sleep promptly (no further attempt) and a submit aborted while waiting left no task', async () => {
		emu.injectFault({ match: { kind: 'query' }, action: { type: 'http', status: 503, code: 'ModelUnavailable', retryAfterSeconds: 30 } });
		const controller = new AbortController();
		const started = Date.now();
		setTimeout(() => controller.abort(), 150);
		const error = await caught(getTask(ep, 'whatever', { signal: controller.signal }));
		expect(error.code).toBe('Aborted');
		expect(Date.now() - started).toBeLessThan(1000);
		expect(emu.counters().queries).toBe(1);

		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 30 } });
		const submitAbort = new AbortController();
		setTimeout(() => submitAbort.abort(), 150);
		const aborted = await caught(submitTask(ep, 'image-generation', T2I, { signal: submitAbort.signal }));
		expect(aborted).toMatchObject({ code: 'Aborted', taskMayExist: false });
		expect(emu.counters().submitAttempts).toBe(1);
	});

	it('an already-aborted signal sends nothing', async () => {
		const controller = new AbortController();
		controller.abort();
		const error = await caught(submitTask(ep, 'image-generation', T2I, { signal: controller.signal }));
		expect(error).toMatchObject({ code: 'Aborted', taskMayExist: false });
		expect(emu.requests()).toHaveLength(0);
	});
});

describe('error mapping', () => {
	it('a key from another region: InvalidApiKey, region hint, ids, NodeApiError fields, no key leaked', async () => {
		const wrong = { baseUrl: emu.baseUrl('ap-southeast-1'), apiKey: EMULATOR_KEYS['cn-beijing'] };
		const error = await caught(submitTask(wrong, 'image-generation', T2I, { retry: FAST }));
		expect(error).toMatchObject({ code: 'InvalidApiKey', httpStatus: 401, retryable: false, taskMayExist: false });
		expect(error.requestId).toEqual(expect.any(String));
		expect(error.hint).toMatch(/region/);
		expect(emu.counters().submitAttempts).toBe(1);
		for (const text of [JSON.stringify(error), error.message, String(error.stack)]) expect(text).not.toContain(wrong.apiKey);

		const apiError = toNodeApiError(TEST_NODE, error, { itemIndex: 3 }) as NodeApiError;
		expect(apiError).toBeInstanceOf(NodeApiError);
		expect(apiError.message).toContain('InvalidApiKey');
		expect(apiError.description).toContain('region');
		expect(apiError.description).toContain(error.requestId!);
		expect(apiError.httpCode).toBe('401');
		expect(apiError.failure).toEqual({ cause: 'credential-invalid' });
		expect(apiError.context).toMatchObject({ itemIndex: 3, code: 'InvalidApiKey', requestId: error.requestId });
		expect(JSON.stringify(apiError)).not.toContain(wrong.apiKey);
	});

	it('moderation at submit maps to DataInspectionFailed with a moderation hint', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'moderation', code: 'DataInspectionFailed' } });
		const error = await caught(submitTask(ep, 'image-generation', T2I, { retry: FAST }));
		expect(error).toMatchObject({ code: 'DataInspectionFailed', httpStatus: 400, taskMayExist: false });
		expect(error.hint).toMatch(/moderation/i);
		expect(error.requestId).toEqual(expect.any(String));
		const apiError = toNodeApiError(TEST_NODE, error, { taskId: 'x' }) as NodeApiError;
		expect(apiError.description).toMatch(/moderation/i);
		expect(apiError.description).toContain('task ID x');
	});

	it('a FAILED task carries output.code/message', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError.Algo', message: 'boom' } });
		const { taskId } = await submitTask(ep, 'image-generation', T2I);
		const task = await pollUntilTerminal(taskId);
		expect(task.output).toMatchObject({ task_status: 'FAILED', code: 'InternalError.Algo', message: 'boom' });
		expect(task.code).toBe('InternalError.Algo');
	});
});
