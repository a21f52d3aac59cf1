/**
 * The node on Runware (Service: Runware), through the real n8n engine against the Runware emulator
 * over real HTTP: per operation the exact imageInference task sent and the items that come out; every
 * refusal before anything is sent (zero requests); faults with zero duplicate tasks and zero lost
 * images; the key only ever in the Authorization header. Expected values come from the inputs, the
 * emulator's records and RUNWARE_API.md, never from the node's code.
 */
import { randomUUID } from 'node:crypto';

import type { IDataObject } from 'n8n-workflow';

import { runwareService } from '../nodes/AlibabaWan/services/runware';
import { resetRateLimiters } from '../nodes/AlibabaWan/transport';
import { RUNWARE_EMULATOR_KEYS } from './emulator-runware';
import { bmp, dataUri, png, serveImages } from './fixtures/images';
import { RW_KEY, UUID_V4, apiRequests, inferenceTasks, setupRunwareEngine } from './fixtures/runware';

const { rw, run, store, itemWith } = setupRunwareEngine();

const palette = { color: [{ hex: '#C2D1E6', ratio: 50 }, { hex: '#000000', ratio: 30 }, { hex: '#ffffff', ratio: 20 }] };

/** Generate Image on the standard model at the emulator's quickest size. */
const generate = (extra: IDataObject = {}): IDataObject => ({
	resource: 'image',
	operation: 'generateImage',
	model: 'wan2.7-image',
	prompt: 'a lighthouse at dawn',
	size: 'custom',
	customSize: '768*768',
	...extra,
});

const photo = () => itemWith({ data: [png(640, 480), 'image/png', 'mug.png'] });
const pair = () => itemWith({ data: [png(640, 480), 'image/png', 'mug.png'], logo: [png(300, 300, 7), 'image/png', 'logo.png'] });

/** Everything the node returned (items and error), as text: the key must not be in it. */
const everything = (result: Awaited<ReturnType<typeof run>>) =>
	JSON.stringify({ items: result.items.map((item) => item.json), error: result.error && { message: result.error.message, description: result.error.description, context: result.error.context } });

function onlyTask(): Record<string, unknown> {
	const tasks = inferenceTasks(rw);
	expect(tasks).toHaveLength(1);
	return tasks[0];
}

describe('each operation: the exact task sent and the items out', () => {
	test('Generate Image (Pro): size, count, seed, thinking, palette and every Runware option, as Runware names them', async () => {
		const result = await run(
			generate({
				model: 'wan2.7-image-pro',
				customSize: '1024*768',
				numberOfImages: 2,
				modelOptions: { seed: '7', thinkingMode: false, colorPalette: palette },
				serviceOptions: { imageFormat: 'PNG', imageQuality: 80, includeCost: true, urlLifetimeSeconds: 600 },
			}),
		);
		expect(result.error?.message).toBeUndefined();
		const task = onlyTask();
		expect(task.taskUUID).toMatch(UUID_V4);
		expect(task).toEqual({
			taskType: 'imageInference',
			taskUUID: task.taskUUID,
			model: 'alibaba:wan@2.7-image-pro',
			positivePrompt: 'a lighthouse at dawn',
			width: 1024,
			height: 768,
			numberResults: 2,
			seed: 7,
			deliveryMethod: 'async',
			outputType: 'URL',
			outputFormat: 'PNG',
			outputQuality: 80,
			includeCost: true,
			ttl: 600,
			settings: {
				thinking: false,
				colorPalette: [
					{ hex: '#C2D1E6', ratio: '50.00%' },
					{ hex: '#000000', ratio: '30.00%' },
					{ hex: '#FFFFFF', ratio: '20.00%' },
				],
			},
		});
		const snapshot = rw.task(task.taskUUID as string)!;
		expect(result.items).toHaveLength(2);
		for (const [index, item] of result.items.entries()) {
			expect(item.json).toMatchObject({
				taskId: task.taskUUID,
				status: 'SUCCEEDED',
				model: 'wan2.7-image-pro',
				size: '1024*768',
				imageIndex: index + 1,
				imageUUID: snapshot.imageUUIDs[index],
				seed: snapshot.seeds[index],
				cost: 0.075,
				usage: { image_count: 2, cost: 0.15 },
			});
			expect(item.json.requestId).toBeUndefined();
			expect(item.binary?.data.mimeType).toBe('image/png');
			const bytes = await store.read(item.binary!.data);
			expect(bytes.readUInt32BE(16)).toBe(1024);
			expect(bytes.readUInt32BE(20)).toBe(768);
		}
		expect(snapshot.seeds).toEqual([7, 8]);
		// The result URLs live 600 s: the output says so (not longer).
		const expires = Date.parse(result.items[0].json.urlsExpireAt as string);
		expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
		expect(expires - Date.now()).toBeGreaterThan(500_000);
	});

	test('Edit Image: the image as a data URI under inputs, its boxes as editRegions, JPG by default', async () => {
		const input = png(640, 480);
		const result = await run(
			{ resource: 'image', operation: 'editImage', model: 'wan2.7-image', prompt: 'put the mug on marble', inputType: 'binary', binaryPropertyName: 'data', boxes: '10,20,200,220', size: 'custom', customSize: '768*768' },
			[await itemWith({ data: [input, 'image/png', 'mug.png'] })],
		);
		expect(result.error?.message).toBeUndefined();
		expect(onlyTask()).toEqual({
			taskType: 'imageInference',
			taskUUID: expect.stringMatching(UUID_V4),
			model: 'alibaba:wan@2.7-image',
			positivePrompt: 'put the mug on marble',
			width: 768,
			height: 768,
			numberResults: 1,
			deliveryMethod: 'async',
			outputType: 'URL',
			inputs: { referenceImages: [dataUri(input, 'image/png')] },
			settings: { editRegions: [[[10, 20, 200, 220]]] },
		});
		expect(result.items).toHaveLength(1);
		expect(result.items[0].binary?.data.mimeType).toBe('image/jpeg');
		expect(result.items[0].json.cost).toBeUndefined();
	});

	test('Fuse Images: images in order, one editRegions list per image ([] where none)', async () => {
		const result = await run(
			{
				resource: 'image',
				operation: 'fuseImages',
				model: 'wan2.7-image-pro',
				prompt: 'put the logo from image 2 on the mug in image 1',
				images: { image: [{ inputType: 'binary', binaryPropertyName: 'data' }, { inputType: 'binary', binaryPropertyName: 'logo', boxes: '5,5,100,100' }] },
				size: 'custom',
				customSize: '768*1024',
			},
			[await pair()],
		);
		expect(result.error?.message).toBeUndefined();
		const task = onlyTask();
		expect((task.inputs as { referenceImages: string[] }).referenceImages).toEqual([dataUri(png(640, 480), 'image/png'), dataUri(png(300, 300, 7), 'image/png')]);
		expect(task.settings).toEqual({ editRegions: [[], [[5, 5, 100, 100]]] });
		expect([task.width, task.height]).toEqual([768, 1024]);
		expect(result.items).toHaveLength(1);
	});

	test('an image URL is passed through for Runware to fetch; without its size, Default is square', async () => {
		const server = await serveImages({ '/logo.png': png(300, 300, 7) });
		try {
			const url = `${server.url}/logo.png`;
			const result = await run(
				{
					resource: 'image',
					operation: 'fuseImages',
					model: 'wan2.7-image',
					prompt: 'put the logo from image 2 on the mug in image 1',
					images: { image: [{ inputType: 'binary', binaryPropertyName: 'data' }, { inputType: 'url', imageUrl: url }] },
					runMode: 'validate',
				},
				[await photo()],
			);
			expect(result.error?.message).toBeUndefined();
			const [task] = result.items[0].json.request as Array<{ inputs: { referenceImages: string[] }; width: number; height: number }>;
			expect(task.inputs.referenceImages[1]).toBe(url);
			expect([task.width, task.height]).toEqual([2048, 2048]);
			expect(rw.counters().requests).toBe(0);
			// Sent for real: Runware (the emulator) fetched the URL itself and made the image.
			const fused = await run(
				{
					resource: 'image',
					operation: 'fuseImages',
					model: 'wan2.7-image',
					prompt: 'put the logo from image 2 on the mug in image 1',
					images: { image: [{ inputType: 'binary', binaryPropertyName: 'data' }, { inputType: 'url', imageUrl: url }] },
					size: 'custom',
					customSize: '768*768',
				},
				[await photo()],
			);
			expect(fused.error?.message).toBeUndefined();
			expect(rw.tasks()[0].inputImages.map((image) => [image.source, image.width, image.height])).toEqual([
				['dataURI', 640, 480],
				['url', 300, 300],
			]);
			expect(fused.items).toHaveLength(1);
		} finally {
			await server.close();
		}
	});

	test('Generate Image Set: settings.sequential, every image of the set out', async () => {
		const result = await run({ ...generate({ operation: 'generateImageSet', numberOfImages: 3 }) });
		expect(result.error?.message).toBeUndefined();
		const task = onlyTask();
		expect(task).toMatchObject({ numberResults: 3, settings: { sequential: true }, width: 768, height: 768 });
		expect(result.items.map((item) => item.json.imageIndex)).toEqual([1, 2, 3]);
		expect(new Set(result.items.map((item) => item.json.imageUUID)).size).toBe(3);
	});

	test('sizes: Default and tiers become a width and height on Runware\'s grid (dry run, nothing sent)', async () => {
		const dry = async (parameters: IDataObject, items?: Awaited<ReturnType<typeof photo>>[]) => {
			const result = await run({ ...parameters, runMode: 'validate' }, items);
			expect(result.error?.message).toBeUndefined();
			const [task] = result.items[0].json.request as Array<{ width: number; height: number }>;
			return [task.width, task.height];
		};
		const edit = { resource: 'image', operation: 'editImage', model: 'wan2.7-image', prompt: 'a mug', inputType: 'binary', binaryPropertyName: 'data' };
		// 640×480 is 4:3: 2K area at 4:3 does not fit 2048, so the long side is 2048.
		expect(await dry(edit, [await photo()])).toEqual([2048, 1536]);
		expect(await dry({ ...edit, size: '1K' }, [await photo()])).toEqual([1184, 880]);
		expect(await dry(generate({ model: 'wan2.7-image-pro', size: '4K' }))).toEqual([4096, 4096]);
		expect(await dry(generate({ size: 'default' }))).toEqual([2048, 2048]);
		expect(rw.counters().requests).toBe(0);
	});
});

describe('as an AI Agent tool', () => {
	const agentItem = [{ json: { sessionId: 's1', chatInput: 'make a lighthouse picture', toolCallId: 'call_1' } }];

	test('one compact answer: URLs (nothing downloaded), billed images and their cost', async () => {
		const result = await run(generate({ numberOfImages: 2, serviceOptions: { includeCost: true } }), agentItem, { asTool: true });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		const json = result.items[0].json;
		expect(json).toMatchObject({ status: 'SUCCEEDED', model: 'wan2.7-image', size: '768*768', imageCount: 2, billedImages: 2, cost: 0.06 });
		expect((json.images as unknown[]).length).toBe(2);
		expect(rw.counters().downloads).toBe(0);
		expect(JSON.stringify(json)).not.toContain(RW_KEY);
	});

	test("Cancel Task as a tool: Runware's refusal comes back as the answer, nothing sent", async () => {
		const result = await run({ resource: 'task', operation: 'cancelTask', taskId: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b' }, agentItem, { asTool: true });
		expect(result.status).toBe('success');
		expect(result.items[0].json.error).toMatch(/Runware cannot cancel a task/);
		expect(rw.counters().requests).toBe(0);
	});
});

describe('Wait for Task and Cancel Task', () => {
	test('Submit Only returns the taskUUID; Wait for Task collects it through getResponse', async () => {
		const submitted = await run(generate({ runMode: 'submit', numberOfImages: 2 }));
		expect(submitted.error?.message).toBeUndefined();
		const taskId = submitted.items[0].json.taskId as string;
		expect(taskId).toBe(onlyTask().taskUUID);
		expect(submitted.items[0].json).toMatchObject({ status: 'PENDING', requestedImages: 2, model: 'wan2.7-image' });
		const polls = rw.counters().polls;

		const waited = await run({ resource: 'task', operation: 'waitForTask', taskIds: taskId }, [submitted.items[0]]);
		expect(waited.error?.message).toBeUndefined();
		expect(waited.items.map((item) => [item.json.taskId, item.json.imageIndex, item.json.model])).toEqual([
			[taskId, 1, 'wan2.7-image'],
			[taskId, 2, 'wan2.7-image'],
		]);
		expect(waited.items.every((item) => item.binary?.data)).toBe(true);
		expect(rw.counters().polls).toBeGreaterThan(polls);
		const polled = rw.requests().filter((request) => request.kind === 'poll');
		expect(polled.every((request) => JSON.stringify(request.body) === JSON.stringify([{ taskType: 'getResponse', taskUUID: taskId }]))).toBe(true);
		expect(rw.counters().tasksCreated).toBe(1);
	});

	test('Wait for Task with a taskUUID Runware does not know says so', async () => {
		const unknown = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
		const result = await run({ resource: 'task', operation: 'waitForTask', taskIds: unknown });
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/Runware does not know this taskUUID/);
		expect(rw.counters().tasksCreated).toBe(0);
	});

	test('Cancel Task is refused with Runware\'s reason before anything is sent', async () => {
		const result = await run({ resource: 'task', operation: 'cancelTask', taskId: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b' });
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/Runware cannot cancel a task.*"Wait for Task"/);
		expect(rw.counters().requests).toBe(0);
	});
});

describe('refused before anything is sent (zero requests), naming the item and the field', () => {
	test.each([
		['a width off the 16-px grid', generate({ customSize: '1000*1000' }), /Item 1: Size 1000\*1000: width and height must be multiples of 16 here: use e\.g\. 1008\*1008/],
		['a side over 2048 on the standard model', generate({ customSize: '2560*1024' }), /Item 1: Size 2560\*1024: the width 2560 is outside 768 to 2048 pixels/],
		['a side under 768', generate({ customSize: '1024*512' }), /the height 512 is outside 768 to 2048 pixels/],
		['a Pro prompt over 3000 characters', generate({ model: 'wan2.7-image-pro', prompt: 'x'.repeat(3001) }), /Prompt is 3001 characters; Wan 2\.7 Image Pro accepts at most 3000/],
		['a one-character prompt', generate({ prompt: 'x' }), /Prompt is 1 character\(s\); Wan 2\.7 Image needs at least 2/],
		['quality under 20', generate({ serviceOptions: { imageQuality: 10 } }), /Item 1: Runware Options › Image Quality must be between 20 and 99; got 10/],
		['a URL lifetime under 60 s', generate({ serviceOptions: { urlLifetimeSeconds: 30 } }), /Runware Options › URL Lifetime \(Seconds\) must be between 60 and 86400 seconds; got 30/],
		['an unknown image format', generate({ serviceOptions: { imageFormat: 'GIF' } }), /Runware Options › Image Format must be one of "JPG", "PNG", "WEBP"/],
		['a model Runware does not serve', generate({ model: 'wan2.6-image' }), /Model "wan2\.6-image" is not a model for this operation on Runware: use one of wan2\.7-image-pro, wan2\.7-image/],
		['a colour palette not adding up to 100%', generate({ modelOptions: { colorPalette: { color: palette.color.slice(0, 2).concat({ hex: '#111111', ratio: 5 }) } } }), /add up to 85\.00%/],
	])('%s', async (_label, parameters, message) => {
		const result = await run(parameters);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(message);
		expect(rw.counters().requests).toBe(0);
	});

	test('a key of another service\'s options in the collection is neither refused nor sent', async () => {
		const result = await run(generate({ serviceOptions: { imageFormat: 'WEBP', responseFormat: 'b64_json' } }));
		expect(result.error?.message).toBeUndefined();
		const task = onlyTask();
		expect(task.outputFormat).toBe('WEBP');
		expect(JSON.stringify(task)).not.toContain('b64_json');
		expect(result.items[0].binary?.data.mimeType).toBe('image/webp');
	});

	test('a Pro edit over 2048 px (reference images cap Pro at 2048)', async () => {
		const result = await run(
			{ resource: 'image', operation: 'editImage', model: 'wan2.7-image-pro', prompt: 'a mug', inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '4096*2048' },
			[await photo()],
		);
		expect(result.error?.message).toMatch(/the width 4096 is outside 768 to 2048 pixels/);
		expect(rw.counters().requests).toBe(0);
	});

	test('a BMP input (Runware takes PNG, JPG and WEBP)', async () => {
		const result = await run(
			{ resource: 'image', operation: 'editImage', model: 'wan2.7-image', prompt: 'a mug', inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '768*768' },
			[await itemWith({ data: [bmp(300, 300), 'image/bmp', 'mug.bmp'] })],
		);
		expect(result.error?.message).toMatch(/Item 1: Image 1 .*accepted formats: JPEG, PNG, WEBP/);
		expect(rw.counters().requests).toBe(0);
	});

	test('three region boxes on one image', async () => {
		const result = await run(
			{ resource: 'image', operation: 'editImage', model: 'wan2.7-image', prompt: 'a mug', inputType: 'binary', binaryPropertyName: 'data', boxes: '1,1,50,50;60,60,90,90;100,100,150,150', size: 'custom', customSize: '768*768' },
			[await photo()],
		);
		expect(result.error?.message).toMatch(/Item 1: Image 1 Region Boxes: .*at most 2/);
		expect(rw.counters().requests).toBe(0);
	});

	test('the second of two items is bad: neither is sent', async () => {
		const items = [{ json: { prompt: 'a lighthouse' } }, { json: { prompt: 'x' } }];
		const result = await run(generate({ prompt: '={{ $json.prompt }}' }), items);
		expect(result.error?.message).toMatch(/^Item 2: Prompt is 1 character/);
		expect(rw.counters().requests).toBe(0);
	});
});

describe('faults: no duplicate task, no lost image, the key never leaked', () => {
	const created = () => rw.counters().tasksCreated;

	// Accepted then the answer lost: found by its taskUUID and adopted (one submission). Refused on arrival:
	// sent again with the same taskUUID (two submissions of one taskUUID). One task either way.
	test.each([
		['the connection drops after Runware accepted the task', { type: 'reset-after-accept' } as const, 1],
		['a 502 after Runware accepted the task', { type: 'http-after-accept', status: 502 } as const, 1],
		['the connection drops before Runware took the task', { type: 'reset' } as const, 2],
		['a 429 (queue full)', { type: 'http', status: 429 } as const, 2],
		['a 503', { type: 'http', status: 503 } as const, 2],
	])('%s: one task, submitted %s time(s) with one taskUUID, its image out', async (_label, action, submissions) => {
		rw.injectFault({ match: { kind: 'inference' }, action });
		const result = await run(generate());
		expect(result.error?.message).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(result.items[0].binary?.data).toBeDefined();
		const counters = rw.counters();
		expect(counters).toMatchObject({ submissions, tasksCreated: 1, conflicts: 0 });
		expect(Object.values(counters.submissionsByTaskUUID)).toEqual([submissions]);
		expect(result.items[0].json.taskId).toBe(rw.tasks()[0].taskUUID);
	});

	test('the lookup after a lost answer fails too (500s): not resent, the error names the taskUUID to collect, and Wait for Task collects it', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'reset-after-accept' } });
		rw.injectFault({ match: { kind: 'poll' }, times: 2, action: { type: 'http', status: 500 } });
		const result = await run(generate());
		expect(result.status).toBe('error');
		const taskUUID = onlyTask().taskUUID as string;
		expect(rw.counters()).toMatchObject({ submissions: 1, tasksCreated: 1, conflicts: 0 });
		expect(result.error?.message).toContain(taskUUID);
		expect(result.error?.message).toMatch(/Wait for Task/);
		expect(JSON.stringify(result.error?.context?.tasks)).toContain(taskUUID);
		const waited = await run({ resource: 'task', operation: 'waitForTask', taskIds: taskUUID });
		expect(waited.error?.message).toBeUndefined();
		expect(waited.items).toHaveLength(1);
		expect(waited.items[0].binary?.data).toBeDefined();
		expect(created()).toBe(1);
	});

	test('a lost answer whose lookup Runware answers "no such task": resent once with the same taskUUID', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'reset' } });
		const result = await run(generate());
		expect(result.error?.message).toBeUndefined();
		const lookups = rw.requests().filter((request) => request.kind === 'poll');
		expect(lookups[0].status).toBe(404);
		expect(rw.counters()).toMatchObject({ submissions: 2, tasksCreated: 1, conflicts: 0 });
	});

	test('status reads failing for a while (503) do not end the wait', async () => {
		rw.injectFault({ match: { kind: 'poll' }, times: 2, action: { type: 'http', status: 503 } });
		const result = await run(generate());
		expect(result.error?.message).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(created()).toBe(1);
	});

	test.each([false, true])('one image of two fails (reported in %s top-level errors): the other is output, the failure is its own item', async (topLevel) => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'partial', failed: 1, topLevel } });
		const result = await run(generate({ numberOfImages: 2 }));
		expect(result.status).toBe('success');
		expect(result.items.map((item) => [item.json.imageIndex, Boolean(item.binary?.data), item.json.code])).toEqual([
			[1, true, undefined],
			[2, false, 'providerError'],
		]);
		expect(result.items[1].json.error).toMatch(/Image 2 failed: providerError/);
	});

	test('a task whose every image failed: an error naming the task, its code and the ledger', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'fail-task', code: 'contentPolicyViolation', message: 'flagged' } });
		const result = await run(generate());
		expect(result.status).toBe('error');
		const taskUUID = rw.tasks()[0].taskUUID;
		expect(result.error?.message).toMatch(/Runware contentPolicyViolation: The task failed: flagged/);
		expect(result.error?.description).toContain(taskUUID);
		expect(result.error?.description).toMatch(/rephrase the prompt/);
		expect(created()).toBe(1);
	});

	test('no credit (402): not retried, nothing created, a hint to top up', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'http', status: 402 } });
		const result = await run(generate());
		expect(result.error?.message).toMatch(/Runware insufficientCredits/);
		expect(result.error?.description).toMatch(/top up/);
		expect(rw.counters()).toMatchObject({ submissions: 1, tasksCreated: 0 });
	});

	test('a wrong key: 401 with a hint, nothing created, and neither key appears anywhere', async () => {
		const wrong = 'rw-wrong-key-123456';
		const result = await run(generate(), undefined, { apiKey: wrong });
		expect(result.error?.message).toMatch(/Runware invalidApiKey/);
		expect(result.error?.description).toMatch(/Runware rejected the API key/);
		expect(rw.counters()).toMatchObject({ tasksCreated: 0, authFailures: 1 });
		expect(everything(result)).not.toContain(wrong);
	});

	test('the key goes only in the Authorization header: never in a body, an output or an error', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'reset-after-accept' } });
		const ok = await run(generate({ numberOfImages: 2 }));
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'http', status: 400, code: 'invalidPositivePrompt', message: `bad prompt for ${RW_KEY}` } });
		const failed = await run(generate());
		expect(failed.error?.message).toMatch(/invalidPositivePrompt/);
		for (const request of apiRequests(rw)) {
			expect(request.headers.authorization).toBe(`Bearer ${RW_KEY}`);
			expect(JSON.stringify(request.body)).not.toContain(RW_KEY);
		}
		expect(everything(ok)).not.toContain(RW_KEY);
		expect(everything(failed)).not.toContain(RW_KEY);
		expect(everything(failed)).toContain('[redacted]');
	});

	test('the submit answer comes after the Timeout: the error names the taskUUID to collect, and Wait for Task collects it', async () => {
		rw.injectFault({ match: { kind: 'inference' }, action: { type: 'delay', ms: 1500 } });
		const result = await run(generate({ options: { timeoutSeconds: 1 } }));
		expect(result.status).toBe('error');
		const taskUUID = onlyTask().taskUUID as string;
		expect(result.error?.message).toContain(taskUUID);
		expect(result.error?.message).toMatch(/billed if it succeeds: collect it within 1 hour with "Wait for Task"/);
		expect(JSON.stringify(result.error?.context?.tasks)).toContain(taskUUID);
		const waited = await run({ resource: 'task', operation: 'waitForTask', taskIds: taskUUID });
		expect(waited.error?.message).toBeUndefined();
		expect(waited.items).toHaveLength(1);
		expect(created()).toBe(1);
	});
});

describe("the session's query budget (what the poll scheduler plans within)", () => {
	test('is the pace of the limiter Runware reads go through: a 429 to getResponse lowers it, for that key only', async () => {
		resetRateLimiters();
		const session = runwareService.connect({ apiKey: RW_KEY, baseUrl: rw.apiUrl });
		const other = runwareService.connect({ apiKey: RUNWARE_EMULATOR_KEYS[1], baseUrl: rw.apiUrl });
		const full = session.queryBudget?.();
		expect(full).toBeGreaterThan(0);
		expect(other.queryBudget?.()).toBe(full);
		rw.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 429 } });
		const read = await session.getTask(randomUUID(), { retry: { maxAttempts: 2, baseDelayMs: 10 } });
		expect(read.status).toBe('UNKNOWN'); // the retry after the 429 got Runware's answer
		expect(rw.counters().throttled).toBe(1);
		expect(session.queryBudget!()).toBeLessThan(full!);
		expect(other.queryBudget!()).toBe(full);
	});
});

describe('reading a task: nothing billed is lost or misreported', () => {
	const HOUR = 3_600_000;
	const pollRequests = () => rw.requests().filter((request) => request.kind === 'poll');

	/** Moves the emulator clock by `ms` once `polls` getResponse requests have arrived, step by step, while `running` runs. */
	async function clockSteps<T>(running: Promise<T>, steps: Array<[polls: number, ms: number]>): Promise<T> {
		let settled = false;
		running.then(
			() => (settled = true),
			() => (settled = true),
		);
		for (const [polls, ms] of steps) {
			while (!settled && pollRequests().length < polls) await new Promise((resolve) => setTimeout(resolve, 5));
			if (settled) break;
			rw.advanceClock(ms);
		}
		return running;
	}

	/** Submit Only of three images finishing an hour apart on the emulator clock: its taskUUID. */
	async function submitHourly(): Promise<string> {
		rw.setTiming({ queueMs: 0, perImageMs: HOUR });
		const submitted = await run(generate({ runMode: 'submit', numberOfImages: 3 }));
		return submitted.items[0].json.taskId as string;
	}

	const everyImageOut = (result: Awaited<ReturnType<typeof run>>) => {
		expect(result.error?.message).toBeUndefined();
		expect(result.items.map((item) => [item.json.imageIndex, Boolean(item.binary?.data)])).toEqual([
			[1, true],
			[2, true],
			[3, true],
		]);
	};

	test('an error naming no task in a getResponse answer (HTTP 200) is a failed read, not a failed task: read again, the image out', async () => {
		rw.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 200, code: 'serverUnavailable', message: 'Try again' } });
		const result = await run(generate());
		const [first] = pollRequests();
		expect(first.responseBody).toEqual({ data: [], errors: [{ code: 'serverUnavailable', message: 'Try again' }] });
		expect(result.error?.message).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({ status: 'SUCCEEDED', usage: { image_count: 1 } });
		expect(result.items[0].binary?.data).toBeDefined();
	});

	test('a task this execution just created that Runware does not show yet (taskFailedOrNotFound) is still waited for', async () => {
		rw.injectFault({ match: { kind: 'poll' }, action: { type: 'http', status: 404, code: 'taskFailedOrNotFound' } });
		const result = await run(generate());
		expect(pollRequests()[0].status).toBe(404);
		expect(result.error?.message).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(result.items[0].binary?.data).toBeDefined();
		expect(rw.counters().tasksCreated).toBe(1);
	});

	test('an image set whose read lists only the finished image: not ended there, every image of the set out', async () => {
		rw.setTiming({ queueMs: 0, perImageMs: HOUR });
		rw.injectFault({ match: { kind: 'poll' }, times: 2, action: { type: 'finished-only' } });
		// First read: nothing finished; then image 1 finishes; second read lists only it; then the rest finish.
		const result = await clockSteps(run(generate({ operation: 'generateImageSet', numberOfImages: 3 })), [
			[1, HOUR],
			[2, 3 * HOUR],
		]);
		expect(pollRequests()[1].responseBody).toEqual({ data: [expect.objectContaining({ status: 'success' })] });
		everyImageOut(result);
	});

	test('Wait for Task with a bare taskUUID whose read lists only the finished image: not ended there, every image out', async () => {
		const taskId = await submitHourly();
		rw.advanceClock(HOUR); // image 1 of 3 is done
		rw.injectFault({ match: { kind: 'poll' }, action: { type: 'finished-only' } });
		const waited = await clockSteps(run({ resource: 'task', operation: 'waitForTask', taskIds: taskId }), [[1, 3 * HOUR]]);
		expect(pollRequests()[0].responseBody).toEqual({ data: [expect.objectContaining({ status: 'success' })] });
		everyImageOut(waited);
	});

	test('Wait for Task with a bare taskUUID, reads listing only finished images: done once two reads agree with none running', async () => {
		const taskId = await submitHourly();
		rw.advanceClock(4 * HOUR);
		rw.injectFault({ match: { kind: 'poll' }, times: 10, action: { type: 'finished-only' } });
		const waited = await run({ resource: 'task', operation: 'waitForTask', taskIds: taskId });
		expect(waited.error?.message).toBeUndefined();
		expect(waited.items).toHaveLength(3);
		expect(pollRequests()).toHaveLength(2);
	});
});

describe('batch looks on Runware (automatic schedule, several tasks waited on)', () => {
	test('three items at once: several getResponse tasks go out in one request, every task is created once and every image comes out', async () => {
		rw.setTiming({ queueMs: 0, perImageMs: 1500 });
		const items = await Promise.all([1, 2, 3].map(() => photo()));
		const result = await run(
			{ ...generate({ operation: 'editImage', inputType: 'binary', binaryPropertyName: 'data', prompt: 'put it on a table' }), options: { pollIntervalSeconds: 0, concurrency: 3 } },
			items,
		);
		expect(result.error?.message).toBeUndefined();
		expect(result.items).toHaveLength(3);
		expect(result.items.every((item) => Object.keys(item.binary ?? {}).length === 1)).toBe(true);
		expect(inferenceTasks(rw)).toHaveLength(3);
		const reads = apiRequests(rw).filter((request) => request.kind === 'poll');
		const sizes = reads.map((request) => (request.body as Array<{ taskType: string }>).filter((task) => task.taskType === 'getResponse').length);
		// At least one batch look asked about several tasks at once.
		expect(Math.max(...sizes)).toBeGreaterThanOrEqual(2);
		// Fewer reads than one per task per look would take.
		expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(reads.length);
		expect(JSON.stringify(result.items.map((item) => item.json))).not.toContain(RW_KEY);
	});
});
