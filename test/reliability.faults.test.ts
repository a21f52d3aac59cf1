/**
 * The fault suite: the built node in n8n's real engine against the emulator, with a fault injected per
 * case, across models and operations. Every case measures, from the emulator's own records:
 * - tasks created per logical task (exactly 1: nothing submitted twice),
 * - images lost (images the service produced that reached neither a valid output binary nor a reported
 *   task ID),
 * - created task IDs reported nowhere (outputs, error message/description/context, error items; for a
 *   stopped execution, where n8n keeps only the moment of the stop, the node's log line),
 * - appearances of the API key in outputs, errors, run data and every captured log line,
 * and records them in the reliability ledger (test/RELIABILITY.md). Each case uses its own API key (its
 * own account: no pacing or reconciliation state leaks between cases).
 */
import { inspect } from 'node:util';

import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { EmulatedTaskSnapshot, Emulator, FaultRule } from './emulator';
import { editBinary, setupEngine, type RunExtra } from './fixtures/engine';
import { PNG_SIGNATURE, REGION, errorText, png } from './fixtures/images';
import { captureEngineLogs } from './fixtures/logCapture';
import type { RunResult } from './harness/n8nEngine';
import { recordCase } from './reliability/ledger';

const engine = setupEngine();
const { emu, store } = engine;
const logs = captureEngineLogs();
beforeEach(() => logs.clear());

type Model = 'wan2.7-image-pro' | 'wan2.7-image' | 'wan2.6-image' | 'wan2.5-i2i-preview';
type Operation = 'generateImage' | 'editImage' | 'fuseImages' | 'generateImageSet' | 'waitForTask' | 'cancelTask';

const PROMPT = 'a ceramic mug on a wooden table';
const customSize = (model: Model) => (model === 'wan2.5-i2i-preview' ? '1024*640' : '1024*768');

/** Node parameters for `operation` on `model` (valid for the catalog: sizes, image counts). */
function parameters(model: Model, operation: Operation, extra: IDataObject = {}): IDataObject {
	const size = model.startsWith('wan2.7') ? { size: '1K' } : { size: 'custom', customSize: customSize(model) };
	switch (operation) {
		case 'generateImage':
			return { operation, model, prompt: PROMPT, ...size, ...(model === 'wan2.6-image' ? { maxImages: 1 } : {}), ...extra };
		case 'editImage':
			return editBinary(model, PROMPT, { ...size, ...extra });
		case 'fuseImages':
			return {
				operation,
				model,
				prompt: 'put image 1 on image 2',
				images: { image: [0, 1].map((i) => ({ inputType: 'binary', binaryPropertyName: `f${i}` })) },
				...size,
				...extra,
			};
		case 'generateImageSet':
			return { operation, model, prompt: PROMPT, numberOfImages: 2, size: '1K', ...extra };
		default:
			return { operation, ...extra };
	}
}

/** Input items carrying the binaries the operation reads. */
async function inputItems(operation: Operation, count: number): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	for (let i = 0; i < count; i++) {
		if (operation === 'editImage') items.push(await engine.itemWith({ data: [png(400, 400, i), 'image/png', `in${i}.png`] }, { n: i }));
		else if (operation === 'fuseImages') {
			items.push(await engine.itemWith({ f0: [png(400, 400, i), 'image/png', 'a.png'], f1: [png(420, 400, i + 1), 'image/png', 'b.png'] }, { n: i }));
		} else items.push({ json: { n: i } });
	}
	return items;
}

interface CaseContext {
	emu: Emulator;
	key: string;
	/** Runs the node with this case's key. */
	run(parameters: IDataObject, items?: INodeExecutionData[], extra?: RunExtra): Promise<RunResult>;
	/** Task IDs created by someone else on the same account (not the node's). */
	foreign: Set<string>;
}

interface FaultCase {
	id: string;
	title: string;
	holes: number[];
	model: Model;
	operation: Operation;
	/** Logical tasks the case means (items × submits). */
	logical: number;
	/** Runs the scenario; returns the run(s) whose outputs/errors report the tasks. */
	scenario(c: CaseContext): Promise<RunResult[]>;
	/** The case's own assertions on top of the common ones. */
	check(runs: RunResult[], c: CaseContext): Promise<void> | void;
	/** A stopped execution: wait for the node's log line (n8n keeps the data of the moment of the stop). */
	stopped?: boolean;
	/** Short outcome for the report. */
	outcome(runs: RunResult[]): string;
}

const inject = (rule: FaultRule) => emu.injectFault(rule);
const lastRun = (runs: RunResult[]) => runs[runs.length - 1];
const status = (runs: RunResult[]) => runs.map((r) => r.status).join(' → ');
const allText = (runs: RunResult[]) => runs.map((r) => JSON.stringify(r.items.map((i) => i.json)) + '\n' + errorText(r.error)).join('\n');

/** Runs the operation on `items` input items (binaries made for it). */
async function runOp(c: CaseContext, model: Model, operation: Operation, extra: IDataObject = {}, items = 1, runExtra: RunExtra = {}) {
	return c.run(parameters(model, operation, extra), await inputItems(operation, items), runExtra);
}

const cases: FaultCase[] = [
	// ------------------------------------------------------------------ hole 3: submit answers lost
	{
		id: 'F-001',
		title: 'submit: connection reset after the task was accepted',
		holes: [3],
		model: 'wan2.7-image-pro',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
			return [await runOp(c, 'wan2.7-image-pro', 'generateImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(1);
			expect(emu.counters().lists).toBeGreaterThanOrEqual(1);
		},
		outcome: (runs) => `${status(runs)}; task found in the task list and collected`,
	},
	{
		id: 'F-002',
		title: 'submit: 503 with a DashScope body after acceptance',
		holes: [3],
		model: 'wan2.7-image',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http-after-accept', status: 503, code: 'ModelUnavailable' } });
			return [await runOp(c, 'wan2.7-image', 'editImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(1);
		},
		outcome: (runs) => `${status(runs)}; adopted by request ID from the task list`,
	},
	{
		id: 'F-003',
		title: 'submit: 500 after acceptance',
		holes: [3],
		model: 'wan2.6-image',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http-after-accept', status: 500, code: 'InternalError' } });
			return [await runOp(c, 'wan2.6-image', 'fuseImages')];
		},
		check: (runs) => expect(lastRun(runs).status).toBe('success'),
		outcome: (runs) => `${status(runs)}; adopted from the task list`,
	},
	{
		id: 'F-004',
		title: 'submit: 429 after acceptance',
		holes: [3],
		model: 'wan2.5-i2i-preview',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http-after-accept', status: 429, code: 'Throttling', retryAfterSeconds: 1 } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'editImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(1);
		},
		outcome: (runs) => `${status(runs)}; a 429 is checked against the task list before any resend`,
	},
	{
		id: 'F-005',
		title: 'submit: 503 before acceptance (nothing created)',
		holes: [3],
		model: 'wan2.7-image-pro',
		operation: 'generateImageSet',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http', status: 503, code: 'ModelUnavailable' } });
			return [await runOp(c, 'wan2.7-image-pro', 'generateImageSet')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(2);
			// Resent only after the list was read (twice) and showed nothing.
			const kinds = emu.requests().map((r) => r.kind);
			expect(kinds.filter((k) => k === 'list').length).toBeGreaterThanOrEqual(2);
			expect(kinds.indexOf('list')).toBeLessThan(kinds.lastIndexOf('submit'));
		},
		outcome: (runs) => `${status(runs)}; list proved no task, resent once`,
	},
	{
		id: 'F-006',
		title: 'submit: connection reset before acceptance',
		holes: [3],
		model: 'wan2.6-image',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'reset' } });
			return [await runOp(c, 'wan2.6-image', 'editImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(2);
		},
		outcome: (runs) => `${status(runs)}; list proved no task, resent once`,
	},
	{
		id: 'F-007',
		title: 'submit answer slower than the whole Timeout',
		holes: [3, 4],
		model: 'wan2.7-image',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'delay', ms: 1500 } });
			return [await runOp(c, 'wan2.7-image', 'generateImage', { options: { timeoutSeconds: 1 } })];
		},
		check: (runs) => {
			expect(emu.counters().submitAttempts).toBe(1);
			const taskId = emu.tasks()[0].taskId;
			// Collected, or reported as still running with how to collect it.
			if (lastRun(runs).status !== 'success') expect(errorText(lastRun(runs).error)).toMatch(/Wait for Task/);
			expect(allText(runs)).toContain(taskId);
		},
		outcome: (runs) => `${status(runs)}; the submit in flight is not cut (its task would go unaccounted), then collected or reported`,
	},
	{
		id: 'F-008',
		title: "submit reset after acceptance while another client's task of the same model appears",
		holes: [3, 2],
		model: 'wan2.7-image',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			// Another client on the same account, in the same seconds (outside this process).
			const res = await fetch(`${emu.baseUrl(REGION)}/services/aigc/image-generation/generation`, {
				method: 'POST',
				headers: { authorization: `Bearer ${c.key}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
				body: JSON.stringify({ model: 'wan2.7-image', input: { messages: [{ role: 'user', content: [{ text: 'other' }] }] }, parameters: { size: '1K', n: 1 } }),
			});
			c.foreign.add(((await res.json()) as { output: { task_id: string } }).output.task_id);
			inject({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
			return [await runOp(c, 'wan2.7-image', 'generateImage')];
		},
		check: (runs, c) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			// Never resent; both tasks of the window are named as candidates.
			expect(emu.counters().submitAttempts).toBe(2);
			for (const id of c.foreign) expect(errorText(run.error)).toContain(id);
			expect(run.error?.description).toMatch(/may be this item's task/);
		},
		outcome: () => 'error lists both candidate tasks; nothing resent',
	},
	{
		id: 'F-009',
		title: 'submit: 429 throttling before acceptance',
		holes: [3, 11],
		model: 'wan2.7-image-pro',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling.RateQuota', retryAfterSeconds: 1 } });
			return [await runOp(c, 'wan2.7-image-pro', 'fuseImages')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters()).toMatchObject({ submitAttempts: 2, throttled: 1 });
		},
		outcome: (runs) => `${status(runs)}; waited Retry-After after the list showed no task`,
	},
	{
		id: 'F-010',
		title: 'batch of 3: one submit reset after acceptance while the others land',
		holes: [3],
		model: 'wan2.7-image',
		operation: 'generateImage',
		logical: 3,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'reset-after-accept' } });
			return [await runOp(c, 'wan2.7-image', 'generateImage', { prompt: '={{ "mug " + $json.n }}' }, 3)];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.counters().submitAttempts).toBe(3);
			expect(lastRun(runs).items).toHaveLength(3);
		},
		outcome: (runs) => `${status(runs)}; the lost answer's task was told apart from its siblings`,
	},
	// ------------------------------------------------------------------ hole 2: one error policy for a batch
	{
		id: 'F-011',
		title: 'batch of 4: one task fails, no Continue On Fail',
		holes: [2],
		model: 'wan2.7-image',
		operation: 'generateImage',
		logical: 4,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError.Algo' } });
			return [await runOp(c, 'wan2.7-image', 'generateImage', { prompt: '={{ "mug " + $json.n }}' }, 4)];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			const tasks = run.error?.context?.tasks as IDataObject[];
			expect(tasks).toHaveLength(4);
			expect(tasks.filter((t) => t.state === 'failed')).toHaveLength(1);
			expect(tasks.filter((t) => t.state === 'emitted')).toHaveLength(3);
			for (const task of emu.tasks()) expect(run.error?.description).toContain(`Task ${task.taskId} (item `);
		},
		outcome: () => 'error lists 4 tasks: 3 finished (emitted), 1 failed (not billed)',
	},
	{
		id: 'F-012',
		title: 'batch of 4: one task fails, Continue On Fail',
		holes: [2],
		model: 'wan2.6-image',
		operation: 'editImage',
		logical: 4,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError.Algo' } });
			return [await runOp(c, 'wan2.6-image', 'editImage', { outputFormat: 'url' }, 4, { continueOnFail: true })];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('success');
			const errorItems = run.items.filter((i) => i.json.error);
			expect(errorItems).toHaveLength(1);
			expect(errorItems[0].json.tasks).toHaveLength(4);
		},
		outcome: () => 'error item carries all 4 tasks with their states',
	},
	{
		id: 'F-013',
		title: 'execution stopped with 5 tasks running',
		holes: [2],
		model: 'wan2.7-image-pro',
		operation: 'generateImage',
		logical: 5,
		stopped: true,
		scenario: async (c) => {
			emu.setTiming({ pendingMs: 60_000 });
			return [await runOp(c, 'wan2.7-image-pro', 'generateImage', { prompt: '={{ "mug " + $json.n }}' }, 5, { cancelAfterMs: 2000 })];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('canceled');
			const stopLine = logs.lines.find((line) => line.includes('execution stopped'));
			expect(stopLine).toBeDefined();
			const ids = emu.tasks().map((t) => t.taskId);
			expect(ids).toHaveLength(5);
			for (const id of ids) expect(stopLine).toContain(`Task ${id} (item `);
			expect(stopLine).toMatch(/5 still running/);
		},
		outcome: () => 'canceled; the log names all 5 running tasks and how to collect them',
	},
	{
		id: 'F-014',
		title: 'batch of 3 times out (tasks stay queued)',
		holes: [2, 4],
		model: 'wan2.5-i2i-preview',
		operation: 'fuseImages',
		logical: 3,
		scenario: async (c) => {
			emu.setTiming({ pendingMs: 60_000 });
			return [await runOp(c, 'wan2.5-i2i-preview', 'fuseImages', { options: { timeoutSeconds: 1 } }, 3)];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.message).toMatch(/still PENDING/);
			expect(run.error?.description).toMatch(/3 tasks in this execution \(3 still running\)/);
		},
		outcome: () => 'error: each task still running, with Wait for Task',
	},
	{
		id: 'F-015',
		title: 'batch of 2: one result download reset mid-body',
		holes: [2, 5],
		model: 'wan2.6-image',
		operation: 'editImage',
		logical: 2,
		scenario: async (c) => {
			inject({ match: { kind: 'result' }, action: { type: 'reset-mid-body', keepBytes: 100 } });
			return [await runOp(c, 'wan2.6-image', 'editImage', { options: { concurrency: 2 } }, 2)];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			const tasks = run.error?.context?.tasks as IDataObject[];
			expect(tasks.map((t) => t.state).sort()).toEqual(['emitted', 'uncollected']);
			expect(run.error?.message).toMatch(/Wait for Task/);
		},
		outcome: () => 'error: 1 task finished but not collected (Wait for Task), 1 emitted',
	},
	{
		id: 'F-016',
		title: 'status check refused (401) while the task runs',
		holes: [2, 4],
		model: 'wan2.5-i2i-preview',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'query' }, action: { type: 'http', status: 401, code: 'InvalidApiKey' } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'editImage')];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.description).toMatch(/may still be running and will be billed/);
			expect(run.error?.description).toMatch(/state unknown/);
		},
		outcome: () => 'error: task state unknown, how to collect it',
	},
	// ------------------------------------------------------------------ hole 4: waiting honours the Timeout
	{
		id: 'F-017',
		title: '8 status checks in a row answered 503',
		holes: [4],
		model: 'wan2.7-image-pro',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'query' }, times: 8, action: { type: 'http', status: 503, code: 'ServiceUnavailable' } });
			return [await runOp(c, 'wan2.7-image-pro', 'generateImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(emu.requests().filter((r) => r.kind === 'query' && r.status === 503)).toHaveLength(8);
		},
		outcome: (runs) => `${status(runs)}; kept waiting through 8 × 503`,
	},
	{
		id: 'F-018',
		title: '8 status checks in a row answered 429',
		holes: [4],
		model: 'wan2.7-image',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'query' }, times: 8, action: { type: 'http', status: 429, code: 'Throttling.RateQuota' } });
			return [await runOp(c, 'wan2.7-image', 'editImage')];
		},
		check: (runs) => expect(lastRun(runs).status).toBe('success'),
		outcome: (runs) => `${status(runs)}; kept waiting through 8 × 429`,
	},
	{
		id: 'F-019',
		title: '8 status checks in a row reset',
		holes: [4],
		model: 'wan2.6-image',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'query' }, times: 8, action: { type: 'reset' } });
			return [await runOp(c, 'wan2.6-image', 'generateImage')];
		},
		check: (runs) => expect(lastRun(runs).status).toBe('success'),
		outcome: (runs) => `${status(runs)}; kept waiting through 8 resets`,
	},
	{
		id: 'F-020',
		title: 'status checks hang (8 s each) with a 2 s Timeout',
		holes: [4],
		model: 'wan2.7-image',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'query' }, times: 5, action: { type: 'delay', ms: 8000 } });
			return [await runOp(c, 'wan2.7-image', 'fuseImages', { options: { timeoutSeconds: 2 } })];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			// The run ended before the emulator even answered the first (8 s) status check.
			expect(emu.requests().filter((r) => r.kind === 'query').every((r) => r.status === 0)).toBe(true);
			expect(run.error?.message).toMatch(/after 2 s/);
			expect(run.error?.message).toMatch(/will be billed if it succeeds: collect it within 24 hours with "Wait for Task"/);
		},
		outcome: () => 'error at the Timeout (before any slow answer), task still running + how to collect',
	},
	{
		id: 'F-021',
		title: 'status checks fail until the Timeout (503 throughout)',
		holes: [4],
		model: 'wan2.5-i2i-preview',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			emu.setTiming({ pendingMs: 60_000 });
			inject({ match: { kind: 'query' }, times: 1000, action: { type: 'http', status: 503, code: 'ServiceUnavailable' } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'fuseImages', { options: { timeoutSeconds: 3 } })];
		},
		check: (runs) => {
			const message = lastRun(runs).error?.message ?? '';
			expect(message).toMatch(/status checks? failed/);
			expect(message).toMatch(/will be billed if it succeeds/);
			expect(message).toMatch(/Wait for Task/);
		},
		outcome: () => 'error at the Timeout: still running, failed checks counted, how to collect',
	},
	// ------------------------------------------------------------------ holes 5, 12: downloads are verified
	{
		id: 'F-022',
		title: 'result download reset mid-body, then collected with Wait for Task',
		holes: [5],
		model: 'wan2.7-image-pro',
		operation: 'generateImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'result' }, action: { type: 'reset-mid-body', keepBytes: 200 } });
			const first = await runOp(c, 'wan2.7-image-pro', 'generateImage');
			const taskId = emu.tasks()[0].taskId;
			const again = await c.run({ operation: 'waitForTask', taskIds: taskId }, [{ json: {} }]);
			return [first, again];
		},
		check: (runs) => {
			const [first, again] = runs;
			const taskId = emu.tasks()[0].taskId;
			expect(first.status).toBe('error');
			expect(first.error?.message).toContain(`Task ${taskId} succeeded but downloading its image failed`);
			expect(first.error?.message).toContain(`"Wait for Task" with task ID ${taskId}`);
			expect(again.status).toBe('success');
			expect(again.items[0].binary?.data).toBeDefined();
		},
		outcome: () => 'error names the task + Wait for Task; the second run collected the image',
	},
	{
		id: 'F-023',
		title: 'result host answers 200 with an HTML page',
		holes: [12],
		model: 'wan2.7-image',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({
				match: { kind: 'result' },
				action: { type: 'replace-body', contentType: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><body>Access portal</body></html>' },
			});
			return [await runOp(c, 'wan2.7-image', 'editImage')];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.message).toMatch(/not an image/);
			expect(run.items).toHaveLength(0);
		},
		outcome: () => 'error names the task; nothing stored as .png',
	},
	{
		id: 'F-024',
		title: 'result download cut short without Content-Length',
		holes: [12],
		model: 'wan2.6-image',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'result' }, action: { type: 'truncate-body', keepBytes: 300 } });
			return [await runOp(c, 'wan2.6-image', 'editImage')];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.message).toMatch(/cut short: 300 bytes and no complete PNG end/);
		},
		outcome: () => 'error: truncated download refused, task named',
	},
	{
		id: 'F-025',
		title: 'result download reset mid-body, Continue On Fail',
		holes: [5, 2],
		model: 'wan2.5-i2i-preview',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'result' }, action: { type: 'reset-mid-body' } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'fuseImages', {}, 1, { continueOnFail: true })];
		},
		check: (runs) => {
			const item = lastRun(runs).items[0];
			expect(item.json.error).toMatch(/Wait for Task/);
			expect(item.json.tasks).toEqual([expect.objectContaining({ state: 'uncollected' })]);
		},
		outcome: () => 'error item: task finished but not collected, how to collect',
	},
	{
		id: 'F-026',
		title: 'image set: one of 2 images answered with HTML',
		holes: [12, 2],
		model: 'wan2.7-image-pro',
		operation: 'generateImageSet',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'result' }, action: { type: 'replace-body', contentType: 'image/png', body: '<html>not found</html>' } });
			return [await runOp(c, 'wan2.7-image-pro', 'generateImageSet')];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.context?.tasks).toEqual([expect.objectContaining({ state: 'uncollected' })]);
		},
		outcome: () => 'error: an HTML body labelled image/png is refused by its bytes',
	},
	// ------------------------------------------------------------------ hole 8: Wait for Task with several IDs
	{
		id: 'F-027',
		title: 'Wait for Task with 3 IDs, one task FAILED',
		holes: [8],
		model: 'wan2.7-image',
		operation: 'waitForTask',
		logical: 3,
		scenario: async (c) => {
			emu.injectFault({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError.Algo' } });
			const submitted = await runOp(c, 'wan2.7-image', 'generateImage', { runMode: 'submit', prompt: '={{ "mug " + $json.n }}', options: { concurrency: 1 } }, 3);
			const ids = submitted.items.map((i) => i.json.taskId as string);
			const waited = await c.run({ operation: 'waitForTask', taskIds: ids.join(', '), outputFormat: 'url' }, [{ json: {} }]);
			return [submitted, waited];
		},
		check: (runs) => {
			const waited = lastRun(runs);
			expect(waited.status).toBe('success');
			const failed = emu.tasks().find((t) => t.status === 'FAILED')!;
			expect(waited.items.filter((i) => i.json.url)).toHaveLength(2);
			expect(waited.items.find((i) => i.json.error)?.json).toMatchObject({ taskId: failed.taskId, code: 'InternalError.Algo' });
		},
		outcome: () => 'the 2 finished tasks emitted, the failed one reported as an item',
	},
	{
		id: 'F-028',
		title: 'Wait for Task with 2 IDs, one download reset',
		holes: [8, 5],
		model: 'wan2.6-image',
		operation: 'waitForTask',
		logical: 2,
		scenario: async (c) => {
			const submitted = await runOp(c, 'wan2.6-image', 'editImage', { runMode: 'submit' }, 2);
			const ids = submitted.items.map((i) => i.json.taskId as string);
			inject({ match: { kind: 'result', taskId: ids[1] }, action: { type: 'reset-mid-body' } });
			const waited = await c.run({ operation: 'waitForTask', taskIds: ids.join('\n') }, [{ json: {} }]);
			return [submitted, waited];
		},
		check: (runs) => {
			const waited = lastRun(runs);
			const ids = runs[0].items.map((i) => i.json.taskId as string);
			expect(waited.status).toBe('success');
			expect(waited.items.find((i) => i.json.taskId === ids[0])?.binary?.data).toBeDefined();
			expect(waited.items.find((i) => i.json.taskId === ids[1])?.json.error).toMatch(/Wait for Task/);
		},
		outcome: () => 'the other task emitted; the failed download reported with how to collect',
	},
	// ------------------------------------------------------------------ hole 11: the running-task limit
	{
		id: 'F-029',
		title: 'two executions at default concurrency, 5 long tasks each (running-task limit)',
		holes: [11],
		model: 'wan2.7-image',
		operation: 'generateImage',
		logical: 10,
		scenario: async (c) => {
			emu.setTiming({ pendingMs: 0, runningMs: 2500 });
			const both = await Promise.all([0, 1].map(() => runOp(c, 'wan2.7-image', 'generateImage', { outputFormat: 'url', prompt: '={{ "mug " + $json.n }}' }, 5)));
			return both;
		},
		check: (runs) => {
			expect(runs.map((r) => r.status)).toEqual(['success', 'success']);
			expect(runs.map((r) => r.items.length)).toEqual([5, 5]);
			// The limit was hit (the emulator answered 429 with Retry-After) and waited out, not failed.
			expect(emu.counters().throttled).toBeGreaterThan(0);
		},
		outcome: (runs) => `${status(runs)}; 429 running-task limit waited out`,
	},
	{
		id: 'F-030',
		title: 'running-task limit 429 with Retry-After 61 s (above the old 60 s cap)',
		holes: [11],
		model: 'wan2.6-image',
		operation: 'generateImage',
		logical: 0,
		scenario: async (c) => {
			inject({
				match: { kind: 'submit' },
				action: { type: 'http', status: 429, code: 'Throttling', message: 'Requests throttling triggered.', retryAfterSeconds: 61 },
			});
			// Stopped while it waits: a node that gave up on the long Retry-After would have failed at once.
			return [await runOp(c, 'wan2.6-image', 'generateImage', {}, 1, { cancelAfterMs: 4000 })];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('canceled');
			expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 0 });
		},
		outcome: () => 'still waiting for its slot when stopped (not failed); 0 tasks',
	},
	{
		id: 'F-031',
		title: 'running-task limit 429 with Retry-After longer than the Timeout',
		holes: [11],
		model: 'wan2.5-i2i-preview',
		operation: 'editImage',
		logical: 0,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 120 } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'editImage', { options: { timeoutSeconds: 5 } })];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('error');
			expect(run.error?.message).toMatch(/asked to wait 120 s, longer than what is left of the Timeout/);
			expect(emu.counters().submissions).toBe(0);
			expect(run.error?.context?.dashScope).toMatchObject({ task_may_exist: false });
		},
		outcome: () => 'error at once: Timeout shorter than Retry-After, nothing created',
	},
	// ------------------------------------------------------------------ hole 16: the key never leaks
	{
		id: 'F-032',
		title: "task failure message quotes the caller's key",
		holes: [16],
		model: 'wan2.7-image-pro',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InvalidParameter', message: `key ${c.key} is not allowed here` } });
			return [await runOp(c, 'wan2.7-image-pro', 'editImage')];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('error');
			expect(lastRun(runs).error?.message).toContain('is not allowed here');
		},
		outcome: () => 'error without the key (message kept, key redacted)',
	},
	{
		id: 'F-033',
		title: "task failure message quotes the key, Continue On Fail",
		holes: [16],
		model: 'wan2.6-image',
		operation: 'fuseImages',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError', message: `Bearer ${c.key} rejected; ${c.key}` } });
			return [await runOp(c, 'wan2.6-image', 'fuseImages', {}, 1, { continueOnFail: true })];
		},
		check: (runs) => expect(lastRun(runs).items[0].json.error).toMatch(/\[redacted\]/),
		outcome: () => 'error item without the key',
	},
	{
		id: 'F-034',
		title: 'a per-image failure message quotes the key',
		holes: [16],
		model: 'wan2.5-i2i-preview',
		operation: 'editImage',
		logical: 1,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'partial', failed: 1, code: 'InternalError.Algo', message: `failed for ${c.key}` } });
			return [await runOp(c, 'wan2.5-i2i-preview', 'editImage', { numberOfImages: 2 })];
		},
		check: (runs) => {
			const run = lastRun(runs);
			expect(run.status).toBe('success');
			expect(run.items.find((i) => i.json.code === 'InternalError.Algo')?.json.message).toBe('failed for [redacted]');
		},
		outcome: () => 'the failed image is reported without the key',
	},
	{
		id: 'F-035',
		title: 'a submit refusal quotes the key',
		holes: [16],
		model: 'wan2.7-image',
		operation: 'fuseImages',
		logical: 0,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'http', status: 400, code: 'InvalidParameter', message: `Invalid key: ${c.key}` } });
			return [await runOp(c, 'wan2.7-image', 'fuseImages')];
		},
		check: (runs) => expect(lastRun(runs).error?.message).toContain('Invalid key: [redacted]'),
		outcome: () => 'error without the key; nothing created',
	},
	{
		id: 'F-036',
		title: 'Wait for Task on a FAILED task whose message quotes the key',
		holes: [16, 8],
		model: 'wan2.7-image-pro',
		operation: 'waitForTask',
		logical: 2,
		scenario: async (c) => {
			inject({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError', message: `upstream said ${c.key}` } });
			const submitted = await runOp(c, 'wan2.7-image-pro', 'generateImage', { runMode: 'submit', options: { concurrency: 1 } }, 2);
			const ids = submitted.items.map((i) => i.json.taskId as string);
			return [submitted, await c.run({ operation: 'waitForTask', taskIds: ids, outputFormat: 'url' }, [{ json: {} }])];
		},
		check: (runs) => {
			const waited = lastRun(runs);
			expect(waited.status).toBe('success');
			expect(waited.items.find((i) => i.json.error)?.json.error).toContain('upstream said [redacted]');
		},
		outcome: () => 'finished task emitted; failed one reported without the key',
	},
	// ------------------------------------------------------------------ Cancel Task
	{
		id: 'F-037',
		title: 'Cancel Task while status checks answer 503',
		holes: [4],
		model: 'wan2.7-image',
		operation: 'cancelTask',
		logical: 1,
		scenario: async (c) => {
			emu.setTiming({ pendingMs: 60_000 });
			const submitted = await runOp(c, 'wan2.7-image', 'generateImage', { runMode: 'submit' });
			inject({ match: { kind: 'query' }, times: 2, action: { type: 'http', status: 503 } });
			return [submitted, await c.run({ operation: 'cancelTask', taskId: submitted.items[0].json.taskId }, [{ json: {} }])];
		},
		check: (runs) => {
			expect(lastRun(runs).status).toBe('success');
			expect(lastRun(runs).items[0].json).toMatchObject({ canceled: true });
			expect(emu.tasks()[0].status).toBe('CANCELED');
		},
		outcome: () => 'cancelled (not billed) after the transient 503s',
	},
];

// ---------------------------------------------------------------------------------------------- measuring

/** Whether stored bytes are a complete PNG (signature and IEND). */
function completePng(bytes: Buffer): boolean {
	return bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.subarray(-12).equals(Buffer.from('0000000049454e44ae426082', 'hex'));
}

function occurrences(text: string, needle: string): number {
	return text.split(needle).length - 1;
}

interface Figures {
	tasksCreated: number;
	duplicateTasks: number;
	lostImages: number;
	unreportedTaskIds: number;
	keyAppearances: number;
	requestsSent: number;
}

async function measure(fc: FaultCase, runs: RunResult[], c: CaseContext): Promise<Figures & { unreported: string[] }> {
	const ours: EmulatedTaskSnapshot[] = emu.tasks().filter((t) => t.apiKey === c.key && !c.foreign.has(t.taskId));
	const logText = logs.lines.join('\n');
	const reportedText = allText(runs) + (fc.stopped ? `\n${logText}` : '');
	const unreported = [...ours.map((t) => t.taskId), ...c.foreign].filter((id) => !reportedText.includes(id));

	// Images the service produced that reached neither a valid output binary / URL nor a reported task ID.
	let lostImages = 0;
	const outputs = runs.flatMap((r) => r.items);
	for (const task of ours) {
		if (task.producedImages === 0) continue;
		if (unreported.includes(task.taskId)) lostImages += task.producedImages;
	}
	for (const item of outputs) {
		const binary = item.binary?.data as IBinaryData | undefined;
		if (binary && !completePng(await store.read(binary))) lostImages += 1; // claimed as delivered, but not an image
	}

	const everything = [
		...runs.map((r) => inspect(r.run, { depth: 30, maxArrayLength: null, maxStringLength: null, breakLength: Infinity })),
		...runs.map((r) => JSON.stringify(r.items)),
		...runs.map((r) => errorText(r.error)),
		logText,
	].join('\n');
	return {
		tasksCreated: ours.length,
		duplicateTasks: Math.max(0, ours.length - fc.logical),
		lostImages,
		unreportedTaskIds: unreported.length,
		unreported,
		keyAppearances: occurrences(everything, c.key),
		requestsSent: emu.requests().filter((r) => r.headers.authorization === `Bearer ${c.key}` || r.kind === 'result').length,
	};
}

async function settleStopped(): Promise<void> {
	// The stopped execution's node finishes in the background; its log line comes then.
	for (let i = 0; i < 100 && !logs.lines.some((line) => line.includes('execution stopped')); i++) {
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

describe('fault suite', () => {
	test.each(cases.map((fc) => [`${fc.id} ${fc.title} (${fc.model} / ${fc.operation})`, fc] as const))('%s', async (_name, fc) => {
		const key = `sk-fault-${fc.id.toLowerCase()}-${Math.random().toString(36).slice(2, 12)}`;
		emu.addKey(key, REGION);
		const c: CaseContext = {
			emu,
			key,
			foreign: new Set(),
			run: (parameters, items, extra = {}) => engine.run(parameters, items, { ...extra, apiKey: key }),
		};
		const runs = await fc.scenario(c);
		if (fc.stopped) await settleStopped();
		const figures = await measure(fc, runs, c);
		let passed = false;
		try {
			await fc.check(runs, c);
			expect(figures.unreported).toEqual([]);
			expect(figures.tasksCreated).toBe(fc.logical);
			expect(figures.duplicateTasks).toBe(0);
			expect(figures.lostImages).toBe(0);
			expect(figures.keyAppearances).toBe(0);
			passed = true;
		} finally {
			recordCase({
				suite: 'fault',
				id: fc.id,
				title: fc.title,
				holes: fc.holes,
				model: fc.model,
				operation: fc.operation,
				outcome: fc.outcome(runs),
				requestsSent: figures.requestsSent,
				tasksCreated: figures.tasksCreated,
				logicalTasks: fc.logical,
				duplicateTasks: figures.duplicateTasks,
				lostImages: figures.lostImages,
				unreportedTaskIds: figures.unreportedTaskIds,
				keyAppearances: figures.keyAppearances,
				passed,
			});
		}
	});
});
