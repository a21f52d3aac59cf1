/**
 * Every model × every operation it offers, run through the real n8n engine (filesystem binary mode)
 * against the DashScope emulator: the exact request body the emulator received (data URIs computed
 * here from the fixture bytes), the headers and route per protocol, and the output items (binary read
 * back from the store, JSON fields, file names, pairedItem).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { EMULATOR_KEYS, startEmulator, type Emulator } from './emulator';
import { BinaryStore, runNode } from './harness/n8nEngine';
import {
	FAST,
	REGION,
	ROUTES,
	bmp,
	credentials,
	dataUri,
	expectImageItems,
	jpeg,
	lastQuery,
	onlySubmit,
	png,
	serveFiles,
	submittedTaskId,
} from './fixtures/images';

const store = new BinaryStore();
let emu: Emulator;
const KEY = EMULATOR_KEYS[REGION];
const TEMPLATE = '{{model}}_{{item}}_{{index}}_{{taskId}}.{{ext}}';
const fileNames = (model: string, taskId: string, item = 1) => (index: number) => `${model}_${item}_${index}_${taskId}.png`;

beforeAll(async () => {
	await store.init();
	emu = await startEmulator({ timing: { pendingMs: 20, runningMs: 50 } });
});
afterAll(async () => {
	store.cleanup();
	await emu.close();
});
beforeEach(() => emu.reset());

async function run(parameters: IDataObject, items: INodeExecutionData[] = [{ json: {} }]) {
	const result = await runNode({
		parameters: { ...parameters, options: { ...FAST, fileNameTemplate: TEMPLATE, ...((parameters.options as IDataObject) ?? {}) } },
		credentials: credentials(emu),
		items,
	});
	if (result.status !== 'success') throw new Error(`run failed: ${result.error?.message} ${result.error?.description ?? ''}`);
	return result;
}

const messages = (...content: IDataObject[]) => ({ messages: [{ role: 'user', content }] });

describe('Generate Image', () => {
	test('wan2.7-image-pro: text only, 1K tier, n=2, seed, watermark, thinking mode off, colour palette', async () => {
		const prompt = 'a lighthouse at dawn, watercolour';
		const palette = [
			{ hex: '#c2d1e6', ratio: 23.51 },
			{ hex: '#112233', ratio: 26.49 },
			{ hex: '#ABCDEF', ratio: 50 },
		];
		const result = await run({
			operation: 'generateImage',
			model: 'wan2.7-image-pro',
			prompt,
			size: '1K',
			numberOfImages: 2,
			modelOptions: { seed: 4242, watermark: true, thinkingMode: false, colorPalette: { color: palette } },
		});
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image-pro',
			input: messages({ text: prompt }),
			parameters: {
				size: '1K',
				n: 2,
				seed: 4242,
				watermark: true,
				thinking_mode: false,
				// Documented shape: upper-case "#RRGGBB", ratio a string with two decimals (§4.1).
				color_palette: palette.map((c) => ({ hex: c.hex.toUpperCase(), ratio: `${c.ratio.toFixed(2)}%` })),
			},
		});
		const taskId = submittedTaskId(req);
		// 1K ≈ 1024² and square without input images (§4.5).
		expect(emu.task(taskId)).toMatchObject({ width: 1024, height: 1024, producedImages: 2 });
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image-pro',
			prompt,
			itemIndex: 0,
			count: 2,
			fileName: fileNames('wan2.7-image-pro', taskId),
		});
		expect(result.items[0].json.seed).toBe(4242);
	});

	test('wan2.7-image: custom W*H, default n', async () => {
		const prompt = 'flat icon of a paper plane';
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt, size: 'custom', customSize: '1024x768' });
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		// "1024x768" is normalised to the native "W*H" (§4.5: the separator is "*").
		expect(req.body).toEqual({ model: 'wan2.7-image', input: messages({ text: prompt }), parameters: { size: '1024*768', n: 1 } });
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.7-image', taskId),
		});
		expect(result.items[0].json.size).toBe('1024*768');
	});

	test('wan2.6-image: interleave mode, text only', async () => {
		const prompt = 'three steps to fold a paper crane';
		const result = await run({
			operation: 'generateImage',
			model: 'wan2.6-image',
			prompt,
			size: 'custom',
			customSize: '768*1024',
			maxImages: 2,
		});
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.6-image',
			input: messages({ text: prompt }),
			parameters: { size: '768*1024', n: 1, enable_interleave: true, max_images: 2 },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.6-image',
			prompt,
			itemIndex: 0,
			count: 2,
			fileName: fileNames('wan2.6-image', taskId),
		});
		// The text parts of the mixed answer are kept, in order.
		const content = (lastQuery(emu, taskId).output.choices as Array<{ message: { content: IDataObject[] } }>)[0].message.content;
		const texts = content.filter((part) => part.type === 'text').map((part) => part.text);
		expect(texts).toHaveLength(2);
		expect(result.items[0].json.texts).toEqual(texts);
	});

	test('wan2.6-image: interleave mode with its one optional reference image', async () => {
		const prompt = 'continue the story of this robot';
		const reference = png(640, 480, 3);
		const binary = await store.store(reference, 'image/png', 'robot.png');
		const result = await run(
			{
				operation: 'generateImage',
				model: 'wan2.6-image',
				prompt,
				images: { image: [{ inputType: 'binary', binaryPropertyName: 'ref' }] },
				size: 'custom',
				customSize: '768*768',
				maxImages: 1,
				modelOptions: { seed: 99, negativePrompt: 'blurry' },
			},
			[{ json: {}, binary: { ref: binary } }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.6-image',
			input: messages({ image: dataUri(reference, 'image/png') }, { text: prompt }),
			parameters: { size: '768*768', n: 1, seed: 99, negative_prompt: 'blurry', enable_interleave: true, max_images: 1 },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.6-image',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.6-image', taskId),
		});
	});
});

describe('Edit Image', () => {
	test('wan2.7-image-pro: binary input with two region boxes', async () => {
		const prompt = 'replace the sky inside the boxes with stars';
		const input = png(600, 400, 1);
		const binary = await store.store(input, 'image/png', 'photo.png');
		const result = await run(
			{
				operation: 'editImage',
				model: 'wan2.7-image-pro',
				prompt,
				inputType: 'binary',
				binaryPropertyName: 'data',
				boxes: '10,20,110,220; 300,50,600,400',
				size: '1K',
				modelOptions: { seed: 7, watermark: false },
			},
			[{ json: { id: 'a' }, binary: { data: binary } }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image-pro',
			input: messages({ image: dataUri(input, 'image/png') }, { text: prompt }),
			parameters: {
				size: '1K',
				n: 1,
				seed: 7,
				watermark: false,
				bbox_list: [
					[
						[10, 20, 110, 220],
						[300, 50, 600, 400],
					],
				],
			},
		});
		const taskId = submittedTaskId(req);
		const task = emu.task(taskId)!;
		// A tier keeps the input's aspect ratio (§4.5): 600×400 = 3:2.
		expect(task.width / task.height).toBeCloseTo(600 / 400, 2);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image-pro',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.7-image-pro', taskId),
		});
	});

	test('wan2.7-image: a data: URI input (JPEG) and n=2, to a custom output field', async () => {
		const prompt = 'make it a pencil sketch';
		const input = jpeg(512, 384);
		const result = await run({
			operation: 'editImage',
			model: 'wan2.7-image',
			prompt,
			inputType: 'url',
			imageUrl: dataUri(input, 'image/jpeg'),
			size: 'custom',
			customSize: '1024*768',
			numberOfImages: 2,
			options: { outputBinaryPropertyName: 'edited' },
		});
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image',
			input: messages({ image: dataUri(input, 'image/jpeg') }, { text: prompt }),
			parameters: { size: '1024*768', n: 2 },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image',
			prompt,
			itemIndex: 0,
			count: 2,
			property: 'edited',
			fileName: fileNames('wan2.7-image', taskId),
		});
		expect(emu.task(taskId)!.inputImages).toEqual([{ source: 'data', format: 'jpeg', width: 512, height: 384, bytes: input.length }]);
	});

	test('wan2.6-image: negative prompt, prompt rewriting off, n=2', async () => {
		const prompt = 'turn the cat into a tiger';
		const input = bmp(320, 480);
		const binary = await store.store(input, 'image/bmp', 'cat.bmp');
		const result = await run(
			{
				operation: 'editImage',
				model: 'wan2.6-image',
				prompt,
				inputType: 'binary',
				binaryPropertyName: 'data',
				size: 'custom',
				customSize: '768*1024',
				numberOfImages: 2,
				modelOptions: { negativePrompt: 'text, watermark', promptExtend: false, seed: 1, watermark: true },
			},
			[{ json: {}, binary: { data: binary } }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.6-image',
			input: messages({ image: dataUri(input, 'image/bmp') }, { text: prompt }),
			parameters: { size: '768*1024', n: 2, seed: 1, watermark: true, negative_prompt: 'text, watermark', prompt_extend: false },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.6-image',
			prompt,
			itemIndex: 0,
			count: 2,
			fileName: fileNames('wan2.6-image', taskId),
		});
	});

	test('wan2.5-i2i-preview: image-synthesis protocol (input.prompt/images/negative_prompt)', async () => {
		const prompt = 'paint the car red';
		const input = png(500, 400, 2);
		const binary = await store.store(input, 'image/png', 'car.png');
		const result = await run(
			{
				operation: 'editImage',
				model: 'wan2.5-i2i-preview',
				prompt,
				inputType: 'binary',
				binaryPropertyName: 'data',
				size: 'custom',
				customSize: '768*768',
				modelOptions: { negativePrompt: 'rust', promptExtend: true, seed: 12345, watermark: false },
			},
			[{ json: {}, binary: { data: binary } }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.synthesis);
		expect(req.body).toEqual({
			model: 'wan2.5-i2i-preview',
			input: { prompt, images: [dataUri(input, 'image/png')], negative_prompt: 'rust' },
			parameters: { size: '768*768', n: 1, seed: 12345, watermark: false, prompt_extend: true },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.5-i2i-preview',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.5-i2i-preview', taskId),
		});
		// Prompt rewriting ran: the rewritten prompt from results[].actual_prompt is in the output.
		const results = lastQuery(emu, taskId).output.results as Array<{ actual_prompt: string }>;
		expect(result.items[0].json.actualPrompt).toBe(results[0].actual_prompt);
	});
});

describe('Fuse Images', () => {
	test('wan2.7-image-pro: the maximum of 9 images, a box on image 3', async () => {
		const prompt = 'a collage of all nine tiles, image 3 in the centre';
		const inputs = Array.from({ length: 9 }, (_, i) => png(250 + i * 10, 300, i + 1));
		const binary: Record<string, Awaited<ReturnType<BinaryStore['store']>>> = {};
		for (const [i, bytes] of inputs.entries()) binary[`img${i + 1}`] = await store.store(bytes, 'image/png', `tile${i + 1}.png`);
		const result = await run(
			{
				operation: 'fuseImages',
				model: 'wan2.7-image-pro',
				prompt,
				imagesFrom: 'list',
				images: {
					image: inputs.map((_, i) => ({
						inputType: 'binary',
						binaryPropertyName: `img${i + 1}`,
						boxes: i === 2 ? '[[0, 0, 100, 150]]' : '',
					})),
				},
				size: '1K',
			},
			[{ json: {}, binary }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image-pro',
			input: messages(...inputs.map((bytes) => ({ image: dataUri(bytes, 'image/png') })), { text: prompt }),
			parameters: { size: '1K', n: 1, bbox_list: inputs.map((_, i) => (i === 2 ? [[0, 0, 100, 150]] : [])) },
		});
		const taskId = submittedTaskId(req);
		expect(emu.task(taskId)!.inputImages.map((i) => i.width)).toEqual(inputs.map((_, i) => 250 + i * 10));
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image-pro',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.7-image-pro', taskId),
		});
	});

	test('wan2.7-image: a binary JPEG and an http(s) URL passed through unchanged', async () => {
		const prompt = 'put the logo from image 2 on the mug in image 1';
		const mug = jpeg(640, 480);
		const logo = png(300, 300, 5);
		const server = await serveFiles({ '/logo.png': logo });
		try {
			const binary = await store.store(mug, 'image/jpeg', 'mug.jpg');
			const logoUrl = `${server.url}/logo.png`;
			const result = await run(
				{
					operation: 'fuseImages',
					model: 'wan2.7-image',
					prompt,
					images: {
						image: [
							{ inputType: 'binary', binaryPropertyName: 'mug' },
							{ inputType: 'url', imageUrl: logoUrl, boxes: '0,0,300,300' },
						],
					},
					size: 'custom',
					customSize: '768*768',
				},
				[{ json: {}, binary: { mug: binary } }],
			);
			const req = onlySubmit(emu, KEY, ROUTES.messages);
			expect(req.body).toEqual({
				model: 'wan2.7-image',
				input: messages({ image: dataUri(mug, 'image/jpeg') }, { image: logoUrl }, { text: prompt }),
				parameters: { size: '768*768', n: 1, bbox_list: [[], [[0, 0, 300, 300]]] },
			});
			const taskId = submittedTaskId(req);
			expect(emu.task(taskId)!.inputImages.map((i) => i.source)).toEqual(['data', 'url']);
			await expectImageItems(store, emu, result.items, {
				taskId,
				model: 'wan2.7-image',
				prompt,
				itemIndex: 0,
				count: 1,
				fileName: fileNames('wan2.7-image', taskId),
			});
		} finally {
			await server.close();
		}
	});

	test('wan2.6-image: its maximum of 4 images, from all binary fields of the item in order', async () => {
		const prompt = 'the four products on one shelf';
		const inputs = [png(400, 300, 1), jpeg(320, 320), bmp(300, 400), png(360, 240, 4)];
		const mimes = ['image/png', 'image/jpeg', 'image/bmp', 'image/png'];
		const binary: Record<string, Awaited<ReturnType<BinaryStore['store']>>> = {};
		for (const [i, bytes] of inputs.entries()) binary[`p${i}`] = await store.store(bytes, mimes[i], `p${i}`);
		const result = await run(
			{
				operation: 'fuseImages',
				model: 'wan2.6-image',
				prompt,
				imagesFrom: 'allBinary',
				size: 'custom',
				customSize: '1024*768',
			},
			[{ json: {}, binary }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.6-image',
			input: messages(...inputs.map((bytes, i) => ({ image: dataUri(bytes, mimes[i]) })), { text: prompt }),
			parameters: { size: '1024*768', n: 1 },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.6-image',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.6-image', taskId),
		});
	});

	test('wan2.5-i2i-preview: its maximum of 3 images', async () => {
		const prompt = 'the person from image 1 wearing the hat from image 2 in the room of image 3';
		const inputs = [png(400, 500, 1), png(384, 384, 2), jpeg(800, 600)];
		const mimes = ['image/png', 'image/png', 'image/jpeg'];
		const binary: Record<string, Awaited<ReturnType<BinaryStore['store']>>> = {};
		for (const [i, bytes] of inputs.entries()) binary[`f${i}`] = await store.store(bytes, mimes[i], `f${i}`);
		const result = await run(
			{
				operation: 'fuseImages',
				model: 'wan2.5-i2i-preview',
				prompt,
				images: { image: inputs.map((_, i) => ({ inputType: 'binary', binaryPropertyName: `f${i}` })) },
				size: 'custom',
				customSize: '1024*640',
				modelOptions: { promptExtend: false },
			},
			[{ json: {}, binary }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.synthesis);
		expect(req.body).toEqual({
			model: 'wan2.5-i2i-preview',
			input: { prompt, images: inputs.map((bytes, i) => dataUri(bytes, mimes[i])) },
			parameters: { size: '1024*640', n: 1, prompt_extend: false },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.5-i2i-preview',
			prompt,
			itemIndex: 0,
			count: 1,
			fileName: fileNames('wan2.5-i2i-preview', taskId),
		});
		expect(result.items[0].json.actualPrompt).toBeUndefined();
	});
});

describe('Generate Image Set', () => {
	test('wan2.7-image-pro: text only, a set of 3 (enable_sequential, one choice with every image)', async () => {
		const prompt = 'four seasonal banners for the same sneaker';
		const result = await run({ operation: 'generateImageSet', model: 'wan2.7-image-pro', prompt, numberOfImages: 3, size: '1K' });
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image-pro',
			input: messages({ text: prompt }),
			parameters: { size: '1K', n: 3, enable_sequential: true },
		});
		const taskId = submittedTaskId(req);
		expect((lastQuery(emu, taskId).output.choices as unknown[]).length).toBe(1);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image-pro',
			prompt,
			itemIndex: 0,
			count: 3,
			fileName: fileNames('wan2.7-image-pro', taskId),
		});
	});

	test('wan2.7-image: a set of 2 from a reference image', async () => {
		const prompt = 'this character in two poses';
		const reference = png(400, 400, 6);
		const binary = await store.store(reference, 'image/png', 'hero.png');
		const result = await run(
			{
				operation: 'generateImageSet',
				model: 'wan2.7-image',
				prompt,
				images: { image: [{ inputType: 'binary', binaryPropertyName: 'data' }] },
				numberOfImages: 2,
				size: 'custom',
				customSize: '768*768',
				modelOptions: { seed: 3 },
			},
			[{ json: {}, binary: { data: binary } }],
		);
		const req = onlySubmit(emu, KEY, ROUTES.messages);
		expect(req.body).toEqual({
			model: 'wan2.7-image',
			input: messages({ image: dataUri(reference, 'image/png') }, { text: prompt }),
			parameters: { size: '768*768', n: 2, seed: 3, enable_sequential: true },
		});
		const taskId = submittedTaskId(req);
		await expectImageItems(store, emu, result.items, {
			taskId,
			model: 'wan2.7-image',
			prompt,
			itemIndex: 0,
			count: 2,
			fileName: fileNames('wan2.7-image', taskId),
		});
	});
});

test('a prompt full of JSON-special characters (and a look-alike of the image placeholder) arrives verbatim', async () => {
	const prompt = 'Say "hi" \\ then\nnew line\t tab, </script> 🎨 ü wanimg0x0x "wanimg123x0x" \u0000 end';
	const input = png(300, 300, 7);
	const binary = await store.store(input, 'image/png', 'p.png');
	await run(
		{ operation: 'editImage', model: 'wan2.7-image', prompt, inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '768*768', outputFormat: 'url' },
		[{ json: {}, binary: { data: binary } }],
	);
	const req = onlySubmit(emu, KEY, ROUTES.messages);
	expect(req.body).toEqual({
		model: 'wan2.7-image',
		input: messages({ image: dataUri(input, 'image/png') }, { text: prompt }),
		parameters: { size: '768*768', n: 1 },
	});
});

test('the API-call sequence of one waiting run: one submit, task queries with the key, unauthenticated result downloads', async () => {
	const prompt = 'a red circle';
	await run({ operation: 'generateImage', model: 'wan2.7-image', prompt, size: '1K' });
	const requests = emu.requests();
	const kinds = requests.map((r) => r.kind);
	expect(kinds[0]).toBe('submit');
	expect(kinds.filter((k) => k === 'submit')).toHaveLength(1);
	expect(kinds[kinds.length - 1]).toBe('result');
	const taskId = submittedTaskId(requests[0]);
	for (const query of requests.filter((r) => r.kind === 'query')) {
		expect(query.method).toBe('GET');
		expect(query.path).toBe(`/${REGION}/api/v1/tasks/${taskId}`);
		expect(query.headers.authorization).toBe(`Bearer ${KEY}`);
	}
	const download = requests.find((r) => r.kind === 'result')!;
	// Result URLs are signed OSS URLs: no API key goes to the result host.
	expect(download.headers.authorization).toBeUndefined();
	expect(download.status).toBe(200);
});
