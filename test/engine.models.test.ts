/**
 * Every model × every operation it offers, run through the real n8n engine (filesystem binary mode)
 * against the DashScope emulator: the exact request body the emulator received (data URIs computed
 * here from the fixture bytes), the headers and route per protocol, and the output items (binary read
 * back from the store, JSON fields, file names, pairedItem).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { RecordedRequest } from './emulator';
import { editBinary, setupEngine, type StoredFile } from './fixtures/engine';
import { KEY, REGION, ROUTES, bmp, dataUri, expectImageItems, jpeg, lastQuery, onlySubmit, png, serveImages, submittedTaskId } from './fixtures/images';

const engine = setupEngine({ options: { fileNameTemplate: '{{model}}_{{item}}_{{index}}_{{taskId}}.{{ext}}' } });
const { emu, store, itemWith } = engine;

/** Runs the node; a run that does not succeed fails the test with the node's error. */
async function run(parameters: IDataObject, items?: INodeExecutionData[]) {
	const result = await engine.run(parameters, items);
	if (result.status !== 'success') throw new Error(`run failed: ${result.error?.message} ${result.error?.description ?? ''}`);
	return result;
}

const messages = (...content: IDataObject[]) => ({ messages: [{ role: 'user', content }] });

interface ExpectedSubmit {
	/** Create route (default: the messages protocol's). */
	route?: string;
	/** `input` and `parameters` of the body { model, input, parameters } the emulator must have received. */
	input: IDataObject;
	parameters: IDataObject;
}

/** The one submit (route and headers: onlySubmit) carries exactly { model, input, parameters }. */
function expectSubmitted(model: string, expected: ExpectedSubmit): RecordedRequest {
	const req = onlySubmit(emu, KEY, expected.route ?? ROUTES.messages);
	expect(req.body).toEqual({ model, input: expected.input, parameters: expected.parameters });
	return req;
}

/**
 * Runs `parameters` on `items` and checks the round trip: the one submit (expectSubmitted) and the
 * image items of its task (expectImageItems: `count` images, one item each, named by the template).
 * Returns the run and the task ID for the test's own checks.
 */
async function runAndExpect(
	parameters: IDataObject,
	expected: ExpectedSubmit & { count?: number; property?: string },
	items?: INodeExecutionData[],
) {
	const model = parameters.model as string;
	const result = await run(parameters, items);
	const taskId = submittedTaskId(expectSubmitted(model, expected));
	await expectImageItems(store, emu, result.items, {
		taskId,
		model,
		prompt: parameters.prompt as string,
		itemIndex: 0,
		count: expected.count ?? 1,
		property: expected.property,
		fileName: (index) => `${model}_1_${index}_${taskId}.png`,
	});
	return { result, taskId };
}

describe('Generate Image', () => {
	test('wan2.7-image-pro: text only, 1K tier, n=2, seed, watermark, thinking mode off, colour palette', async () => {
		const prompt = 'a lighthouse at dawn, watercolour';
		const palette = [
			{ hex: '#c2d1e6', ratio: 23.51 },
			{ hex: '#112233', ratio: 26.49 },
			{ hex: '#ABCDEF', ratio: 50 },
		];
		const { result, taskId } = await runAndExpect(
			{
				operation: 'generateImage',
				model: 'wan2.7-image-pro',
				prompt,
				size: '1K',
				numberOfImages: 2,
				modelOptions: { seed: 4242, watermark: true, thinkingMode: false, colorPalette: { color: palette } },
			},
			{
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
				count: 2,
			},
		);
		// 1K ≈ 1024² and square without input images (§4.5).
		expect(emu.task(taskId)).toMatchObject({ width: 1024, height: 1024, producedImages: 2 });
		expect(result.items[0].json.seed).toBe(4242);
	});

	test('wan2.7-image: custom W*H, default n', async () => {
		const prompt = 'flat icon of a paper plane';
		const { result } = await runAndExpect(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt, size: 'custom', customSize: '1024x768' },
			// "1024x768" is normalised to the native "W*H" (§4.5: the separator is "*").
			{ input: messages({ text: prompt }), parameters: { size: '1024*768', n: 1 } },
		);
		expect(result.items[0].json.size).toBe('1024*768');
	});

	test('wan2.6-image: interleave mode, text only', async () => {
		const prompt = 'three steps to fold a paper crane';
		const { result, taskId } = await runAndExpect(
			{ operation: 'generateImage', model: 'wan2.6-image', prompt, size: 'custom', customSize: '768*1024', maxImages: 2 },
			{ input: messages({ text: prompt }), parameters: { size: '768*1024', n: 1, enable_interleave: true, max_images: 2 }, count: 2 },
		);
		// The text parts of the mixed answer are kept, in order.
		const content = (lastQuery(emu, taskId).output.choices as Array<{ message: { content: IDataObject[] } }>)[0].message.content;
		const texts = content.filter((part) => part.type === 'text').map((part) => part.text);
		expect(texts).toHaveLength(2);
		expect(result.items[0].json.texts).toEqual(texts);
	});

	test('wan2.6-image: interleave mode with its one optional reference image', async () => {
		const prompt = 'continue the story of this robot';
		const reference = png(640, 480, 3);
		await runAndExpect(
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
			{
				input: messages({ image: dataUri(reference, 'image/png') }, { text: prompt }),
				parameters: { size: '768*768', n: 1, seed: 99, negative_prompt: 'blurry', enable_interleave: true, max_images: 1 },
			},
			[await itemWith({ ref: [reference, 'image/png', 'robot.png'] })],
		);
	});
});

describe('Edit Image', () => {
	test('wan2.7-image-pro: binary input with two region boxes', async () => {
		const prompt = 'replace the sky inside the boxes with stars';
		const input = png(600, 400, 1);
		const { taskId } = await runAndExpect(
			editBinary('wan2.7-image-pro', prompt, { boxes: '10,20,110,220; 300,50,600,400', size: '1K', modelOptions: { seed: 7, watermark: false } }),
			{
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
			},
			[await itemWith({ data: [input, 'image/png', 'photo.png'] }, { id: 'a' })],
		);
		const task = emu.task(taskId)!;
		// A tier keeps the input's aspect ratio (§4.5): 600×400 = 3:2.
		expect(task.width / task.height).toBeCloseTo(600 / 400, 2);
	});

	test('wan2.7-image: a data: URI input (JPEG) and n=2, to a custom output field', async () => {
		const prompt = 'make it a pencil sketch';
		const input = jpeg(512, 384);
		const { taskId } = await runAndExpect(
			{
				operation: 'editImage',
				model: 'wan2.7-image',
				prompt,
				inputType: 'url',
				imageUrl: dataUri(input, 'image/jpeg'),
				size: 'custom',
				customSize: '1024*768',
				numberOfImages: 2,
				options: { outputBinaryPropertyName: 'edited' },
			},
			{ input: messages({ image: dataUri(input, 'image/jpeg') }, { text: prompt }), parameters: { size: '1024*768', n: 2 }, count: 2, property: 'edited' },
		);
		expect(emu.task(taskId)!.inputImages).toEqual([{ source: 'data', format: 'jpeg', width: 512, height: 384, bytes: input.length }]);
	});

	test('wan2.6-image: negative prompt, prompt rewriting off, n=2', async () => {
		const prompt = 'turn the cat into a tiger';
		const input = bmp(320, 480);
		await runAndExpect(
			editBinary('wan2.6-image', prompt, {
				size: 'custom',
				customSize: '768*1024',
				numberOfImages: 2,
				modelOptions: { negativePrompt: 'text, watermark', promptExtend: false, seed: 1, watermark: true },
			}),
			{
				input: messages({ image: dataUri(input, 'image/bmp') }, { text: prompt }),
				parameters: { size: '768*1024', n: 2, seed: 1, watermark: true, negative_prompt: 'text, watermark', prompt_extend: false },
				count: 2,
			},
			[await itemWith({ data: [input, 'image/bmp', 'cat.bmp'] })],
		);
	});

	test('wan2.5-i2i-preview: image-synthesis protocol (input.prompt/images/negative_prompt)', async () => {
		const prompt = 'paint the car red';
		const input = png(500, 400, 2);
		const { result, taskId } = await runAndExpect(
			editBinary('wan2.5-i2i-preview', prompt, {
				size: 'custom',
				customSize: '768*768',
				modelOptions: { negativePrompt: 'rust', promptExtend: true, seed: 12345, watermark: false },
			}),
			{
				route: ROUTES.synthesis,
				input: { prompt, images: [dataUri(input, 'image/png')], negative_prompt: 'rust' },
				parameters: { size: '768*768', n: 1, seed: 12345, watermark: false, prompt_extend: true },
			},
			[await itemWith({ data: [input, 'image/png', 'car.png'] })],
		);
		// Prompt rewriting ran: the rewritten prompt from results[].actual_prompt is in the output.
		const results = lastQuery(emu, taskId).output.results as Array<{ actual_prompt: string }>;
		expect(result.items[0].json.actualPrompt).toBe(results[0].actual_prompt);
	});
});

describe('Fuse Images', () => {
	test('wan2.7-image-pro: the maximum of 9 images, a box on image 3', async () => {
		const prompt = 'a collage of all nine tiles, image 3 in the centre';
		const inputs = Array.from({ length: 9 }, (_, i) => png(250 + i * 10, 300, i + 1));
		const { taskId } = await runAndExpect(
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
			{
				input: messages(...inputs.map((bytes) => ({ image: dataUri(bytes, 'image/png') })), { text: prompt }),
				parameters: { size: '1K', n: 1, bbox_list: inputs.map((_, i) => (i === 2 ? [[0, 0, 100, 150]] : [])) },
			},
			[await itemWith(Object.fromEntries(inputs.map((bytes, i) => [`img${i + 1}`, [bytes, 'image/png', `tile${i + 1}.png`]] as const)))],
		);
		expect(emu.task(taskId)!.inputImages.map((i) => i.width)).toEqual(inputs.map((_, i) => 250 + i * 10));
	});

	test('wan2.7-image: a binary JPEG and an http(s) URL passed through unchanged', async () => {
		const prompt = 'put the logo from image 2 on the mug in image 1';
		const mug = jpeg(640, 480);
		const logo = png(300, 300, 5);
		const server = await serveImages({ '/logo.png': logo });
		try {
			const logoUrl = `${server.url}/logo.png`;
			const { taskId } = await runAndExpect(
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
				{
					input: messages({ image: dataUri(mug, 'image/jpeg') }, { image: logoUrl }, { text: prompt }),
					parameters: { size: '768*768', n: 1, bbox_list: [[], [[0, 0, 300, 300]]] },
				},
				[await itemWith({ mug: [mug, 'image/jpeg', 'mug.jpg'] })],
			);
			expect(emu.task(taskId)!.inputImages.map((i) => i.source)).toEqual(['data', 'url']);
		} finally {
			await server.close();
		}
	});

	test('wan2.6-image: its maximum of 4 images, from all binary fields of the item in order', async () => {
		const prompt = 'the four products on one shelf';
		const inputs: StoredFile[] = [
			[png(400, 300, 1), 'image/png', 'p0'],
			[jpeg(320, 320), 'image/jpeg', 'p1'],
			[bmp(300, 400), 'image/bmp', 'p2'],
			[png(360, 240, 4), 'image/png', 'p3'],
		];
		await runAndExpect(
			{ operation: 'fuseImages', model: 'wan2.6-image', prompt, imagesFrom: 'allBinary', size: 'custom', customSize: '1024*768' },
			{
				input: messages(...inputs.map(([bytes, mime]) => ({ image: dataUri(bytes, mime) })), { text: prompt }),
				parameters: { size: '1024*768', n: 1 },
			},
			[await itemWith(Object.fromEntries(inputs.map((file, i) => [`p${i}`, file] as const)))],
		);
	});

	test('wan2.5-i2i-preview: its maximum of 3 images', async () => {
		const prompt = 'the person from image 1 wearing the hat from image 2 in the room of image 3';
		const inputs: StoredFile[] = [
			[png(400, 500, 1), 'image/png', 'f0'],
			[png(384, 384, 2), 'image/png', 'f1'],
			[jpeg(800, 600), 'image/jpeg', 'f2'],
		];
		const { result } = await runAndExpect(
			{
				operation: 'fuseImages',
				model: 'wan2.5-i2i-preview',
				prompt,
				images: { image: inputs.map((_, i) => ({ inputType: 'binary', binaryPropertyName: `f${i}` })) },
				size: 'custom',
				customSize: '1024*640',
				modelOptions: { promptExtend: false },
			},
			{
				route: ROUTES.synthesis,
				input: { prompt, images: inputs.map(([bytes, mime]) => dataUri(bytes, mime)) },
				parameters: { size: '1024*640', n: 1, prompt_extend: false },
			},
			[await itemWith(Object.fromEntries(inputs.map((file, i) => [`f${i}`, file] as const)))],
		);
		expect(result.items[0].json.actualPrompt).toBeUndefined();
	});
});

describe('Generate Image Set', () => {
	test('wan2.7-image-pro: text only, a set of 3 (enable_sequential, one choice with every image)', async () => {
		const prompt = 'four seasonal banners for the same sneaker';
		const { taskId } = await runAndExpect(
			{ operation: 'generateImageSet', model: 'wan2.7-image-pro', prompt, numberOfImages: 3, size: '1K' },
			{ input: messages({ text: prompt }), parameters: { size: '1K', n: 3, enable_sequential: true }, count: 3 },
		);
		expect((lastQuery(emu, taskId).output.choices as unknown[]).length).toBe(1);
	});

	test('wan2.7-image: a set of 2 from a reference image', async () => {
		const prompt = 'this character in two poses';
		const reference = png(400, 400, 6);
		await runAndExpect(
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
			{
				input: messages({ image: dataUri(reference, 'image/png') }, { text: prompt }),
				parameters: { size: '768*768', n: 2, seed: 3, enable_sequential: true },
				count: 2,
			},
			[await itemWith({ data: [reference, 'image/png', 'hero.png'] })],
		);
	});
});

test('a prompt full of JSON-special characters (and a look-alike of the image placeholder) arrives verbatim', async () => {
	const prompt = 'Say "hi" \\ then\nnew line\t tab, </script> 🎨 ü wanimg0x0x "wanimg123x0x" \u0000 end';
	const input = png(300, 300, 7);
	await run(
		editBinary('wan2.7-image', prompt, { size: 'custom', customSize: '768*768', outputFormat: 'url' }),
		[await itemWith({ data: [input, 'image/png', 'p.png'] })],
	);
	expectSubmitted('wan2.7-image', { input: messages({ image: dataUri(input, 'image/png') }, { text: prompt }), parameters: { size: '768*768', n: 1 } });
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
