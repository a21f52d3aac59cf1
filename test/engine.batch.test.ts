/**
 * Binary modes, MIME detection, output shapes, several items (order, pairedItem, bounded concurrency),
 * safe task creation (no duplicate paid task, 429 retried), the API key never leaking, and the item
 * error policy (Continue On Fail vs. stop before anything is sent).
 */
import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { EMULATOR_KEYS, type RecordedRequest } from './emulator';
import { ossUploadForm } from './emulator/fixtures';
import { editBinary, setupEngine } from './fixtures/engine';
import { inlineBinary, type RunResult } from './harness/n8nEngine';
import {
	KEY,
	PNG_SIGNATURE,
	REGION,
	ROUTES,
	dataUri,
	errorText,
	expectImageItems,
	gif,
	jpeg,
	onlySubmit,
	png,
	pngSize,
	sentContent,
	submits,
	submittedTaskId,
} from './fixtures/images';

const { emu, store, run } = setupEngine();

const edit = (extra: IDataObject = {}): IDataObject => editBinary('wan2.7-image', 'add a rainbow', { size: 'custom', customSize: '768*768', ...extra });

const sentImages = (req: RecordedRequest) => sentContent(req).filter((part) => part.image !== undefined).map((part) => part.image);

describe('binary data modes and MIME types', () => {
	test('inline binary (legacy default mode) gives the same request and output as filesystem mode', async () => {
		const bytes = png(640, 360, 4);
		const stored = await store.store(bytes, 'image/png', 'a.png');
		const params = edit({ modelOptions: { seed: 5 } });

		const fs = await run(params, [{ json: {}, binary: { data: stored } }]);
		expect(fs.status).toBe('success');
		const fsBody = onlySubmit(emu, KEY, ROUTES.messages).body;
		emu.reset();
		const inline = await run(params, [{ json: {}, binary: { data: inlineBinary(bytes, 'image/png', 'a.png') } }]);
		expect(inline.status).toBe('success');
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual(fsBody);
		expect(sentImages(req)).toEqual([dataUri(bytes, 'image/png')]);
		const taskId = submittedTaskId(req);
		const [fromInline] = await expectImageItems(store, emu, inline.items, {
			taskId,
			model: 'wan2.7-image',
			prompt: 'add a rainbow',
			itemIndex: 0,
			count: 1,
			fileName: (index) => `${taskId}-${index}.png`, // the default template {{taskId}}-{{index}}.{{ext}}
		});
		// Same seed, prompt and size: the emulator renders the same image, so both runs output the same bytes.
		expect(fromInline.equals(await store.read(fs.items[0].binary!.data))).toBe(true);
	});

	test.each([
		['a PNG declared application/octet-stream (filesystem)', () => png(300, 300), 'application/octet-stream', 'image/png', 'fs'],
		['a JPEG declared image/png (filesystem)', () => jpeg(300, 300), 'image/png', 'image/jpeg', 'fs'],
		['a JPEG declared image/png (inline)', () => jpeg(320, 240), 'image/png', 'image/jpeg', 'inline'],
		['a PNG without any MIME type (inline)', () => png(260, 260), '', 'image/png', 'inline'],
	] as const)('%s is sent with the MIME type of its bytes', async (_label, make, declared, actual, mode) => {
		const bytes = make();
		const binary = mode === 'fs' ? await store.store(bytes, declared, 'upload.bin') : inlineBinary(bytes, declared, 'upload.bin');
		const result = await run(edit({ outputFormat: 'url' }), [{ json: {}, binary: { data: binary } }]);
		expect(result.status).toBe('success');
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(sentImages(req)).toEqual([dataUri(bytes, actual)]);
		// The emulator checks that the data URI MIME matches the bytes (§4.4) and accepted it.
		expect(emu.task(submittedTaskId(req))!.inputImages[0].format).toBe(actual.split('/')[1]);
	});
});

describe('references and credentials', () => {
	test('an oss:// reference (temporary upload, §8) is passed through with X-DashScope-OssResourceResolve', async () => {
		// Upload a file the way the SDKs do: policy, then the OSS form POST.
		const model = 'wan2.7-image';
		const policyRes = await fetch(`${emu.baseUrl(REGION)}/uploads?action=getPolicy&model=${model}`, { headers: { Authorization: `Bearer ${KEY}` } });
		const policy = ((await policyRes.json()) as { data: Record<string, string> }).data;
		const bytes = png(480, 320, 9);
		const key = `${policy.upload_dir}/photo.png`;
		const form = ossUploadForm(policy, key, { bytes, name: 'photo.png' });
		expect((await fetch(policy.upload_host, { method: 'POST', body: form })).status).toBe(200);

		const result = await run(edit({ model, inputType: 'url', imageUrl: `oss://${key}`, outputFormat: 'url' }));
		expect(result.status).toBe('success');
		const req = submits(emu)[0];
		expect(req.headers['x-dashscope-ossresourceresolve']).toBe('enable');
		expect(req.headers['x-dashscope-async']).toBe('enable');
		expect(sentImages(req)).toEqual([`oss://${key}`]);
		expect(emu.task(submittedTaskId(req))!.inputImages).toEqual([{ source: 'oss', format: 'png', width: 480, height: 320, bytes: bytes.length }]);
	});

	test('a key used with the wrong region: 401 InvalidApiKey, not retried, with a hint about regions', async () => {
		const result = await run({ operation: 'generateImage', model: 'wan2.6-image', prompt: 'x' }, undefined, {
			apiKey: EMULATOR_KEYS['cn-beijing'],
			region: 'us-east-1',
		});
		expect(result.status).toBe('error');
		expect(emu.counters()).toMatchObject({ submitAttempts: 1, submissions: 0 });
		expect(result.error?.message).toMatch(/^DashScope InvalidApiKey: /);
		expect(result.error?.description).toMatch(/only works in the region where it was created/);
		expect(result.error?.httpCode).toBe('401');
	});
});

describe('output shapes', () => {
	test('All Images on One Item: data, data_1, data_2 on one item', async () => {
		const result = await run({
			operation: 'generateImage',
			model: 'wan2.7-image-pro',
			prompt: 'three tiles',
			size: 'custom',
			customSize: '768*768',
			numberOfImages: 3,
			outputItems: 'perTask',
			options: { fileNameTemplate: 'tile-{{index}}.{{ext}}' },
		});
		expect(result.status).toBe('success');
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		const task = emu.task(taskId)!;
		expect(result.items).toHaveLength(1);
		const [item] = result.items;
		expect(item.pairedItem).toEqual({ item: 0 });
		expect(Object.keys(item.binary!)).toEqual(['data', 'data_1', 'data_2']);
		expect(item.json).toMatchObject({
			taskId,
			model: 'wan2.7-image-pro',
			prompt: 'three tiles',
			size: `${task.width}*${task.height}`,
			imageCount: 3,
			failedImages: [],
			images: task.resultUrls.map((url, i) => ({ index: i + 1, url, binaryProperty: i === 0 ? 'data' : `data_${i}` })),
		});
		for (const [i, key] of ['data', 'data_1', 'data_2'].entries()) {
			const binary = item.binary![key];
			expect(binary.mimeType).toBe('image/png');
			expect(binary.fileName).toBe(`tile-${i + 1}.png`);
			const bytes = await store.read(binary);
			expect(pngSize(bytes)).toEqual({ width: task.width, height: task.height });
		}
	});

	test('URLs Only: no binary, no download, the result URLs in the JSON', async () => {
		const result = await run({ operation: 'generateImageSet', model: 'wan2.7-image', prompt: 'two frames', numberOfImages: 2, size: '1K', outputFormat: 'url' });
		expect(result.status).toBe('success');
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		const urls = emu.task(taskId)!.resultUrls;
		expect(urls).toHaveLength(2);
		expect(result.items.map((item) => item.json.url)).toEqual(urls);
		expect(result.items.map((item) => item.json.imageIndex)).toEqual([1, 2]);
		for (const item of result.items) {
			expect(item.binary).toBeUndefined();
			expect(item.pairedItem).toEqual({ item: 0 });
			expect(item.json.taskId).toBe(taskId);
		}
		expect(emu.counters().resultDownloads).toBe(0);
		// The URLs work (signed, no key needed).
		const res = await fetch(urls[1]);
		expect(res.status).toBe(200);
		expect(Buffer.from(await res.arrayBuffer()).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
	});
});

describe('several items', () => {
	test('output order and pairedItem follow the input order even when a later item finishes first', async () => {
		emu.setTiming({ pendingMs: 100, runningMs: 50 });
		const prompts = ['first item', 'second item', 'third item'];
		const items = prompts.map((prompt) => ({ json: { prompt } }));
		// As soon as item 1's task exists, hold back its result download by HOLD_MS: items 2 and 3 finish first
		// (3 s, not less: on a loaded 2-core machine the others' downloads can take over a second).
		const HOLD_MS = 3000;
		let delayedTask: string | undefined;
		const watcher = setInterval(() => {
			if (delayedTask) return;
			const req = submits(emu).find((r) => JSON.stringify(r.body).includes(prompts[0]) && r.status === 200);
			if (!req) return;
			delayedTask = submittedTaskId(req);
			emu.injectFault({ match: { kind: 'result', taskId: delayedTask }, action: { type: 'delay', ms: HOLD_MS } });
		}, 2);
		const started = Date.now();
		let result: RunResult;
		try {
			result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: '={{ $json.prompt }}', size: 'custom', customSize: '768*768', options: { concurrency: 3 } }, items);
		} finally {
			clearInterval(watcher);
		}
		expect(result.status).toBe('success');
		expect(delayedTask).toBeDefined();
		// The delayed download really was the last thing to finish: it started before the others' and
		// ended HOLD_MS later, while theirs arrived within that window.
		const downloads = emu.requests().filter((r) => r.kind === 'result');
		const delayed = downloads.find((r) => r.path.includes(delayedTask!))!;
		const others = downloads.filter((r) => r !== delayed);
		expect(others).toHaveLength(2);
		for (const other of others) expect(other.at).toBeLessThan(delayed.at + HOLD_MS);
		expect(Date.now() - started).toBeGreaterThanOrEqual(HOLD_MS);

		expect(result.items.map((item) => item.json.prompt)).toEqual(prompts);
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items[0].json.taskId).toBe(delayedTask);
		const byPrompt = new Map(submits(emu).map((r) => [JSON.stringify(r.body).match(/"text":"([^"]+)"/)![1], submittedTaskId(r)]));
		for (const item of result.items) expect(item.json.taskId).toBe(byPrompt.get(item.json.prompt as string));
	});

	test('Wait for Task: order follows the input when the first task answers last', async () => {
		const ids: string[] = [];
		for (const prompt of ['a', 'b', 'c']) {
			const submitted = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt, size: 'custom', customSize: '768*768', runMode: 'submit' });
			ids.push(submitted.items[0].json.taskId as string);
		}
		emu.injectFault({ match: { kind: 'query', taskId: ids[0] }, action: { type: 'delay', ms: 600 } });
		const result = await run(
			{ operation: 'waitForTask', taskIds: '={{ $json.taskId }}', outputFormat: 'url', options: { concurrency: 3 } },
			ids.map((taskId) => ({ json: { taskId } })),
		);
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.taskId)).toEqual(ids);
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		// Tasks 2 and 3 were answered (SUCCEEDED) before task 1's first query was.
		const queries = emu.requests().filter((r) => r.kind === 'query');
		const firstAnswerFor1 = queries.find((q) => q.path.endsWith(ids[0]))!;
		for (const id of ids.slice(1)) {
			const done = queries.find((q) => q.path.endsWith(id) && (q.responseBody as { output: IDataObject }).output.task_status === 'SUCCEEDED')!;
			expect(done.at).toBeLessThan(firstAnswerFor1.at + 600);
		}
	});

	test.each([1, 2, 3])('concurrency %i: the emulator never sees more tasks at once, and all items are processed', async (concurrency) => {
		// A fresh key per case: the transport paces submissions per key (5/s, §7), which must not serialise them here.
		const apiKey = `sk-concurrency-${concurrency}`;
		emu.addKey(apiKey, REGION);
		emu.setTiming({ pendingMs: 50, runningMs: 150 });
		const count = 5;
		const items = Array.from({ length: count }, (_, i) => ({ json: { prompt: `job ${i + 1}` } }));
		const result = await run(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt: '={{ $json.prompt }}', size: 'custom', customSize: '768*768', outputFormat: 'url', options: { concurrency } },
			items,
			{ apiKey },
		);
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.json.prompt)).toEqual(items.map((item) => item.json.prompt));
		expect(result.items.map((item) => item.pairedItem)).toEqual(items.map((_, item) => ({ item })));
		const tasks = submits(emu).map((r) => emu.task(submittedTaskId(r))!);
		expect(tasks).toHaveLength(count);
		// Most tasks alive (submitted, not yet ended) at any submit instant: exactly the concurrency.
		const alive = (at: number) => tasks.filter((t) => t.submitTime <= at && at < t.endTime!).length;
		const peak = Math.max(...tasks.map((t) => alive(t.submitTime)));
		expect(peak).toBe(concurrency);
	});
});

describe('task creation is never duplicated', () => {
	test.each([
		['the connection is reset after the task was accepted', { type: 'reset-after-accept' as const }],
		['a 500 answers a submit the service accepted', { type: 'http-after-accept' as const, status: 500 }],
		['a 503 with a DashScope body answers a submit the service accepted', { type: 'http-after-accept' as const, status: 503 }],
	])('%s: the task is found in the task list and collected, never submitted twice', async (_label, action) => {
		emu.injectFault({ match: { kind: 'submit' }, action });
		const input = await store.store(png(300, 300), 'image/png', 'in.png');
		const result = await run(edit({ outputFormat: 'url' }), [{ json: {}, binary: { data: input } }]);
		expect(result.status).toBe('success');
		expect(emu.counters().submissions).toBe(1);
		expect(emu.counters().submitAttempts).toBe(1);
		expect(emu.counters().lists).toBeGreaterThanOrEqual(1);
		const [created] = submits(emu);
		expect(result.items).toHaveLength(1);
		expect(emu.task(String(result.items[0].json.taskId))!.request).toEqual(created.body);
	});

	test('a 429 on submit is retried and succeeds with exactly one created task', async () => {
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling.RateQuota', retryAfterSeconds: 0 } });
		const input = await store.store(png(300, 300), 'image/png', 'in.png');
		const result = await run(edit({ outputFormat: 'url' }), [{ json: {}, binary: { data: input } }]);
		expect(result.status).toBe('success');
		expect(emu.counters()).toMatchObject({ submitAttempts: 2, submissions: 1, throttled: 1 });
		const [rejected, accepted] = submits(emu);
		expect(rejected.status).toBe(429);
		expect(accepted.status).toBe(200);
		// The retry sends the same body again.
		expect(accepted.body).toEqual(rejected.body);
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json.taskId).toBe(submittedTaskId(accepted));
	});

	test('exhausted quota (429 Throttling.AllocationQuota "Free allocated quota exceeded") is not retried', async () => {
		emu.injectFault({
			match: { kind: 'submit' },
			action: { type: 'http', status: 429, code: 'Throttling.AllocationQuota', message: 'Free allocated quota exceeded.' },
		});
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'x', size: '1K' });
		expect(result.status).toBe('error');
		expect(emu.counters().submitAttempts).toBe(1);
		expect(result.error?.message).toContain('Throttling.AllocationQuota');
	});
});

test('the API key never appears in any output item or error', async () => {
	const secret = 'sk-very-secret-0123456789abcdef';
	emu.addKey(secret, REGION);
	const input = await store.store(png(300, 300), 'image/png', 'in.png');
	const items = [{ json: {}, binary: { data: input } }];
	const outputs: unknown[] = [];
	const record = (result: RunResult) => outputs.push(result.items, errorText(result.error), result.run.data.resultData);

	const ok = await run(edit(), items, { apiKey: secret });
	expect(ok.status).toBe('success');
	record(ok);
	const submitted = await run(edit({ runMode: 'submit' }), items, { apiKey: secret });
	record(submitted);
	record(await run({ operation: 'waitForTask', taskIds: '={{ $json.taskId }}' }, submitted.items, { apiKey: secret }));
	emu.injectFault({ match: { kind: 'submit' }, action: { type: 'fail-task' } });
	record(await run(edit(), items, { apiKey: secret }));
	emu.injectFault({ match: { kind: 'submit' }, action: { type: 'fail-task' } });
	record(await run(edit(), items, { apiKey: secret, continueOnFail: true }));
	emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 401, code: 'InvalidApiKey', message: `Invalid API-key provided: ${secret}` } });
	record(await run(edit(), items, { apiKey: secret }));
	emu.injectFault({ match: { kind: 'query' }, action: { type: 'http', status: 400, code: 'InvalidParameter', message: `bad key ${secret}` } });
	record(await run(edit(), items, { apiKey: secret, continueOnFail: true }));
	record(await run({ operation: 'cancelTask', taskId: ok.items[0].json.taskId }, [{ json: {} }], { apiKey: secret }));

	// The key was used…
	expect(emu.counters().submissionsByKey[secret]).toBeGreaterThanOrEqual(4);
	expect(emu.requests().every((r) => r.kind === 'result' || r.headers.authorization === `Bearer ${secret}`)).toBe(true);
	// …and even errors whose server message quoted it do not carry it.
	const everything = JSON.stringify(outputs);
	expect(everything).toContain('InvalidApiKey');
	expect(everything).not.toContain(secret);
	expect(everything).not.toContain(secret.slice(3));
});

describe('item errors', () => {
	test('Continue On Fail: an invalid item becomes an error item, the others get their results', async () => {
		const good = await store.store(png(300, 300), 'image/png', 'ok.png');
		const bad = await store.store(gif(300, 300), 'image/gif', 'bad.gif');
		const items = [good, bad, good].map((data) => ({ json: {}, binary: { data } }));
		const result = await run(edit({ outputFormat: 'url' }), items, { continueOnFail: true });
		expect(result.status).toBe('success');
		expect(emu.counters().submissions).toBe(2);
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items[1].json).toEqual({ error: expect.stringMatching(/^Item 2: Image 1 .*is GIF/) });
		const taskIds = submits(emu).map(submittedTaskId);
		expect(new Set([result.items[0].json.taskId, result.items[2].json.taskId])).toEqual(new Set(taskIds));
	});

	test('Continue On Fail: a task that fails among good ones becomes an error item with its task ID', async () => {
		const good = await store.store(png(300, 300), 'image/png', 'ok.png');
		const items = [0, 1, 2].map(() => ({ json: {}, binary: { data: good } }));
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'partial', failed: 1 } }); // first task: its only image fails → FAILED
		const result = await run(edit({ outputFormat: 'url', options: { concurrency: 1 } }), items, { continueOnFail: true });
		expect(result.status).toBe('success');
		const taskIds = submits(emu).map(submittedTaskId);
		expect(emu.task(taskIds[0])!.status).toBe('FAILED');
		expect(result.items).toHaveLength(3);
		expect(result.items[0]).toEqual({ json: expect.objectContaining({ taskId: taskIds[0], code: 'InternalError.Algo' }), pairedItem: { item: 0 } });
		expect(result.items[1].json.taskId).toBe(taskIds[1]);
		expect(result.items[2].json.taskId).toBe(taskIds[2]);
	});

	test('without Continue On Fail one invalid item stops the run before any request is sent', async () => {
		const good = await store.store(png(300, 300), 'image/png', 'ok.png');
		const items: INodeExecutionData[] = [{ json: {}, binary: { data: good } }, { json: {}, binary: { data: good } }, { json: {} }];
		const result = await run(edit(), items);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/^Item 3: Image 1 has no binary property "data"/);
		expect(emu.requests()).toHaveLength(0);
	});

	test('without Continue On Fail a failed task stops new submissions and the error lists every task with its state', async () => {
		const good = await store.store(png(300, 300), 'image/png', 'ok.png');
		const items = [0, 1, 2].map(() => ({ json: {}, binary: { data: good } as Record<string, IBinaryData> }));
		// Once the first task exists, the next one (item 2's) is made to fail.
		let armed = false;
		const watcher = setInterval(() => {
			if (!armed && submits(emu).length === 1) {
				armed = true;
				emu.injectFault({ match: { kind: 'submit' }, action: { type: 'fail-task', code: 'InternalError.Algo' } });
			}
		}, 1);
		let result: RunResult;
		try {
			result = await run(edit({ outputFormat: 'url', options: { concurrency: 1 } }), items);
		} finally {
			clearInterval(watcher);
		}
		expect(result.status).toBe('error');
		const taskIds = submits(emu).map(submittedTaskId);
		expect(taskIds).toHaveLength(2); // item 3 was never submitted
		expect(emu.task(taskIds[0])!.status).toBe('SUCCEEDED');
		expect(emu.task(taskIds[1])!.status).toBe('FAILED');
		expect(result.error?.message).toMatch(/InternalError\.Algo/);
		expect(result.error?.description).toContain(`task ID ${taskIds[1]}`);
		// The error lists every task of the execution with its state.
		expect(result.error?.description).toContain(`Task ${taskIds[0]} (item 1): finished, images in the output`);
		expect(result.error?.description).toContain(`Task ${taskIds[1]} (item 2): failed (not billed)`);
		expect(result.error?.context?.tasks).toEqual([
			expect.objectContaining({ taskId: taskIds[0], item: 1, state: 'emitted' }),
			expect.objectContaining({ taskId: taskIds[1], item: 2, state: 'failed' }),
		]);
	});
});
