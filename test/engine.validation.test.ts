/**
 * Every documented limit is enforced locally, through the real engine: the run fails before a single
 * request reaches the emulator, and the error names the item ("Item 2: …") and the field or image.
 * Each case runs two items — a valid one, then the invalid one — so the message must name item 2, and
 * "zero requests" also proves that the valid first item was not sent either.
 * Limits are taken from DASHSCOPE_API.md §4 (numbers restated below), not from the node's catalog.
 */
import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { RecordedRequest, RegionId } from './emulator';
import { editBinary, setupEngine } from './fixtures/engine';
import {
	KEY,
	ROUTES,
	alphaPng,
	bmp,
	bmp32,
	dataUri,
	decodeDataUri,
	decodePng,
	gif,
	jpeg,
	onlySubmit,
	png,
	sentContent,
	submittedTaskId,
} from './fixtures/images';

const MB = 1024 * 1024;
/** DASHSCOPE_API.md §4.1–4.4. */
const SPEC = {
	'wan2.7-image-pro': { prompt: 5000, fileBytes: 20 * MB, side: [240, 8000], aspect: 8 },
	'wan2.7-image': { prompt: 5000, fileBytes: 20 * MB, side: [240, 8000], aspect: 8 },
	'wan2.6-image': { prompt: 2000, negativePrompt: 500, fileBytes: 10 * MB, side: [240, 8000], aspect: undefined },
	'wan2.5-i2i-preview': { prompt: 2000, negativePrompt: 500, fileBytes: 10 * MB, side: [384, 5000], aspect: 4 },
} as const;
type Model = keyof typeof SPEC;
const SEED_MAX = 2147483647;

const { emu, store, run } = setupEngine();
let good: IBinaryData;

beforeAll(async () => {
	good = await store.store(png(600, 400), 'image/png', 'good.png');
});

/** Two items: a valid one, then `bad`. */
function twoItems(bad: INodeExecutionData, first: INodeExecutionData = { json: {}, binary: { data: good } }): INodeExecutionData[] {
	return [first, bad];
}

/** Two items with the valid image: `json[field]` is `ok` in the first, `bad` in the second. */
function twoItemsWith(field: string, bad: IDataObject[string], ok: IDataObject[string]): INodeExecutionData[] {
	return twoItems({ json: { [field]: bad }, binary: { data: good } }, { json: { [field]: ok }, binary: { data: good } });
}

async function expectRejected(
	parameters: IDataObject,
	items: INodeExecutionData[],
	parts: Array<string | RegExp>,
	opts: { region?: RegionId; item?: number } = {},
): Promise<string> {
	const result = await run(parameters, items, { region: opts.region });
	expect(result.status).toBe('error');
	expect(result.items).toHaveLength(0);
	const message = result.error?.message ?? '';
	expect(message.startsWith(`Item ${opts.item ?? 2}: `)).toBe(true);
	for (const part of parts) {
		if (typeof part === 'string') expect(message).toContain(part);
		else expect(message).toMatch(part);
	}
	// Nothing was sent: no submit, no query, no upload, nothing at all.
	expect(emu.requests()).toHaveLength(0);
	expect(emu.counters().submitAttempts).toBe(0);
	return message;
}

const editWith = (model: Model, extra: IDataObject = {}): IDataObject => editBinary(model, 'make it brighter', extra);

/** Edits `binary` (768*768, URLs only) where the run must succeed; returns the one submit. */
async function expectEditSent(model: Model, binary: IBinaryData, extra: IDataObject = {}): Promise<RecordedRequest> {
	const result = await run({ ...editWith(model, extra), size: 'custom', customSize: '768*768', outputFormat: 'url' }, [{ json: {}, binary: { data: binary } }]);
	expect(result.status).toBe('success');
	return onlySubmit(emu, KEY, ROUTES.messages);
}

describe('prompt and parameters', () => {
	test.each((Object.keys(SPEC) as Model[]).map((model) => [model, SPEC[model].prompt] as const))(
		'%s: a prompt longer than %i characters',
		async (model, max) => {
			const items = twoItemsWith('prompt', 'x'.repeat(max + 1), 'ok');
			await expectRejected(editWith(model, { prompt: '={{ $json.prompt }}' }), items, ['Prompt', `${max + 1} characters`, `at most ${max}`]);
		},
	);

	test('prompts are counted in UTF-16 units (the stricter count): 1000 emoji pass on wan2.6-image, 1001 are refused', async () => {
		const max = SPEC['wan2.6-image'].prompt;
		const prompt = '🎨'.repeat(max / 2);
		const req = await expectEditSent('wan2.6-image', good, { prompt });
		expect(sentContent(req)[1]).toEqual({ text: prompt });
		emu.reset();
		// 1001 code points, 2002 UTF-16 units: over the limit in the unit the node counts.
		await expectRejected(
			editWith('wan2.6-image', { prompt: '={{ $json.prompt }}' }),
			twoItemsWith('prompt', '🎨'.repeat(max / 2 + 1), 'ok'),
			['Prompt', `${max + 2} characters`, `at most ${max}`, 'UTF-16'],
		);
	});

	test('limits are inclusive: seed 0 and 2147483647, 4K on wan2.7-image-pro text-to-image, n = 4 are sent', async () => {
		const cases: Array<[IDataObject, IDataObject]> = [
			[{ ...editWith('wan2.5-i2i-preview'), size: 'custom', customSize: '768*768', modelOptions: { seed: 0 } }, { seed: 0, size: '768*768' }],
			[{ ...editWith('wan2.7-image'), size: 'custom', customSize: '768*768', modelOptions: { seed: SEED_MAX } }, { seed: SEED_MAX }],
			[{ operation: 'generateImage', model: 'wan2.7-image-pro', prompt: 'x', size: '4K' }, { size: '4K' }],
			[{ ...editWith('wan2.6-image'), size: 'custom', customSize: '2048*2048', numberOfImages: 4 }, { n: 4, size: '2048*2048' }],
		];
		for (const [parameters, expected] of cases) {
			emu.reset();
			const result = await run({ ...parameters, runMode: 'submit' }, [{ json: {}, binary: { data: good } }]);
			expect(result.status).toBe('success');
			const route = parameters.model === 'wan2.5-i2i-preview' ? ROUTES.synthesis : ROUTES.messages;
			expect((onlySubmit(emu, KEY, route).body as { parameters: IDataObject }).parameters).toMatchObject(expected);
		}
	});

	test('an empty prompt', async () => {
		await expectRejected(
			editWith('wan2.7-image', { prompt: '={{ $json.prompt }}' }),
			twoItemsWith('prompt', '   ', 'fine'),
			['Prompt', 'required'],
		);
	});

	test.each(['wan2.6-image', 'wan2.5-i2i-preview'] as const)('%s: a negative prompt longer than 500 characters', async (model) => {
		const max = SPEC[model].negativePrompt;
		await expectRejected(
			editWith(model, { modelOptions: { negativePrompt: '={{ $json.negative }}' } }),
			twoItemsWith('negative', 'n'.repeat(max + 1), 'blur'),
			['Negative Prompt', `at most ${max} characters`],
		);
	});

	test.each([
		// [operation, model, bad n, message part] — §4.1–4.3: 1–4 (set mode 1–12).
		['editImage', 'wan2.7-image-pro', 5, 'at most 4'],
		['editImage', 'wan2.7-image', 0, 'at least 1'],
		['editImage', 'wan2.6-image', 5, 'at most 4'],
		['editImage', 'wan2.5-i2i-preview', 5, 'at most 4'],
		['generateImage', 'wan2.7-image', 5, 'at most 4'],
		['generateImageSet', 'wan2.7-image-pro', 13, 'at most 12'],
		['editImage', 'wan2.7-image', 1.5, 'whole number'],
	] as const)('%s on %s: Number of Images %d', async (operation, model, n, part) => {
		await expectRejected(
			{ ...editWith(model), operation, numberOfImages: '={{ $json.n }}' },
			twoItemsWith('n', n, 1),
			['Number of Images', part],
		);
	});

	test.each([
		['4K on wan2.7-image (it tops out at 2K)', 'generateImage', 'wan2.7-image', '4K'],
		['4K in an image set (4K only with set mode off)', 'generateImageSet', 'wan2.7-image-pro', '4K'],
		['4K on wan2.7-image-pro with an input image', 'editImage', 'wan2.7-image-pro', '4K'],
		['a tier on wan2.5 (W*H only)', 'editImage', 'wan2.5-i2i-preview', '1K'],
		['a tier 2.6 interleave does not have', 'generateImage', 'wan2.6-image', '2K'],
	] as const)('size: %s', async (_label, operation, model, tier) => {
		await expectRejected(
			{ ...editWith(model), operation, size: 'custom', customSize: '={{ $json.size }}' },
			twoItemsWith('size', tier, '768*768'),
			['Size', `"${tier}"`, 'is not a size this model accepts'],
		);
	});

	test.each([
		// §4.5: total pixels [768², 2048²] (2.7 with images), [768², 1280²] (2.5); aspect [1:8, 8:1] / [1:4, 4:1].
		['too few pixels on wan2.7-image', 'wan2.7-image', '700*700', ['700*700 is 490000 pixels', '768*768']],
		['too many pixels on wan2.7-image-pro with an input image', 'wan2.7-image-pro', '2100*2100', ['2100*2100', '2048*2048']],
		['too many pixels on wan2.5', 'wan2.5-i2i-preview', '1300*1300', ['1300*1300', '1280*1280']],
		['aspect beyond 8:1 on wan2.7-image', 'wan2.7-image', '3000*360', ['aspect ratio', '8.33:1', '8:1']],
		['aspect beyond 1:4 on wan2.6-image', 'wan2.6-image', '400*1800', ['aspect ratio', '1:4.5', '1:4']],
		['not a size at all', 'wan2.7-image', 'large', ['"LARGE"', 'not a size']],
	] as const)('custom size: %s', async (_label, model, size, parts) => {
		await expectRejected(
			editWith(model, { size: 'custom', customSize: '={{ $json.size }}' }),
			twoItemsWith('size', size, '1024*1024'),
			['Size', ...parts],
		);
	});

	test.each([-1, SEED_MAX + 1, 2.5])('seed %d', async (seed) => {
		await expectRejected(
			editWith('wan2.7-image-pro', { modelOptions: { seed: '={{ $json.seed }}' } }),
			twoItemsWith('seed', seed, SEED_MAX),
			['Seed', Number.isInteger(seed) ? `between 0 and ${SEED_MAX}` : 'whole number'],
		);
	});

	const palette = (ratios: Array<number | string>) => ({
		color: ratios.map((ratio, i) => ({ hex: `#0000${String(i).padStart(2, '0')}`, ratio })),
	});

	test.each([
		// §4.1: 3–10 entries. The collection cannot vary per item, so both items are invalid: item 1 is named.
		['2 colours', [50, 50], 'needs at least 3 colours'],
		['11 colours', [...new Array<number>(10).fill(9), 10], 'takes at most 10 colours'],
	] as const)('colour palette: %s', async (_label, ratios, part) => {
		await expectRejected(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt: 'x', modelOptions: { colorPalette: palette([...ratios]) } },
			[{ json: {} }, { json: {} }],
			['Color Palette', part],
			{ item: 1 },
		);
	});

	test.each([
		// §4.1: ratios sum to "100.00%".
		['99.99%', 33.33],
		['100.01%', 33.35],
	] as const)('colour palette: ratios summing to %s', async (sum, third) => {
		await expectRejected(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt: 'x', modelOptions: { colorPalette: palette([33.33, 33.33, '={{ $json.third }}']) } },
			twoItems({ json: { third } }, { json: { third: 33.34 } }),
			['Color Palette', `ratios add up to ${sum}`, '100.00%'],
		);
	});

	test.each([
		['wan2.7-image', 'us-east-1', 'US (Virginia)'],
		['wan2.7-image-pro', 'eu-central-1', 'Germany (Frankfurt)'],
		['wan2.5-i2i-preview', 'us-east-1', 'US (Virginia)'],
	] as const)('%s with a %s credential: not served there (§1)', async (model, region, regionName) => {
		await expectRejected(editWith(model), [{ json: {}, binary: { data: good } }], [`is not served in ${regionName}`, 'Singapore'], {
			region,
			item: 1,
		});
	});
});

describe('image count per model and operation', () => {
	/** `count` binary fields p0…, sent with "All Binary Fields of the Item". */
	async function binaries(count: number): Promise<Record<string, IBinaryData>> {
		const out: Record<string, IBinaryData> = {};
		for (let i = 0; i < count; i++) out[`p${i}`] = good;
		return out;
	}

	test.each([
		// §4.4 / §10: 2.7 fuse 2–9, 2.6 fuse 2–4 (edit mode 1–4; fusing means ≥2), 2.5 fuse 2–3 (1–3), 2.7 set 0–9.
		['fuseImages', 'wan2.7-image-pro', 10, '2 to 9', 2],
		['fuseImages', 'wan2.7-image', 1, '2 to 9', 2],
		['fuseImages', 'wan2.6-image', 5, '2 to 4', 2],
		['fuseImages', 'wan2.6-image', 1, '2 to 4', 3],
		['fuseImages', 'wan2.5-i2i-preview', 4, '2 to 3', 3],
		['generateImageSet', 'wan2.7-image', 10, '0 to 9', 1],
		['generateImage', 'wan2.6-image', 2, '0 to 1', 1],
	] as const)('%s on %s with %i images', async (operation, model, count, range, goodCount) => {
		await expectRejected(
			{ operation, model, prompt: 'combine', imagesFrom: 'allBinary' },
			twoItems({ json: {}, binary: await binaries(count) }, { json: {}, binary: await binaries(goodCount) }),
			['Images', range, `got ${count}`],
		);
	});
});

describe('input images', () => {
	async function rejectImage(model: Model, bytes: Buffer, mime: string, parts: Array<string | RegExp>, operation = 'editImage') {
		const bad = await store.store(bytes, mime, 'bad');
		return await expectRejected(
			operation === 'editImage'
				? editWith(model)
				: { operation, model, prompt: 'combine', images: { image: [{ binaryPropertyName: 'a' }, { binaryPropertyName: 'data' }] } },
			twoItems(
				{ json: {}, binary: operation === 'editImage' ? { data: bad } : { a: good, data: bad } },
				{ json: {}, binary: operation === 'editImage' ? { data: good } : { a: good, data: good } },
			),
			parts,
		);
	}

	test('a GIF (formats: JPEG, PNG, BMP, WEBP)', async () => {
		await rejectImage('wan2.7-image', gif(500, 500), 'image/gif', ['Image 1', 'is GIF', 'JPEG, PNG, BMP, WEBP']);
	});

	test('bytes that are no image at all, labelled image/png', async () => {
		await rejectImage('wan2.7-image', Buffer.from('hello, I am text pretending to be an image'), 'image/png', ['Image 1', 'could not be read as an image']);
	});

	test.each([
		['wan2.7-image', 239, 400],
		['wan2.7-image-pro', 8001, 1200],
		['wan2.5-i2i-preview', 383, 400],
		['wan2.5-i2i-preview', 5001, 1300],
		['wan2.6-image', 239, 300],
	] as const)('%s: a %i×%i image (sides outside the limit)', async (model, width, height) => {
		const [min, max] = SPEC[model].side;
		await rejectImage(model, png(width, height), 'image/png', ['Image 1', `${width}×${height} px`, `between ${min} and ${max} px`]);
	});

	test('the second image of a fusion is named as image 2', async () => {
		await rejectImage('wan2.7-image', png(100, 100), 'image/png', ['Image 2', '100×100 px'], 'fuseImages');
	});

	test.each([
		['wan2.5-i2i-preview', 400, 1700, '1:4.25', '1:4'],
		['wan2.7-image', 240, 1980, '1:8.25', '1:8'],
		['wan2.7-image-pro', 2000, 240, '8.33:1', '8:1'],
	] as const)('%s: aspect ratio of a %i×%i image', async (model, width, height, actual, limit) => {
		await rejectImage(model, png(width, height), 'image/png', ['Image 1', `aspect ratio ${actual}`, limit]);
	});

	test('wan2.6-image has no aspect-ratio limit: a 240×2000 image is sent', async () => {
		const tall = png(240, 2000);
		const req = await expectEditSent('wan2.6-image', await store.store(tall, 'image/png', 'tall.png'));
		expect(sentContent(req)[0]).toEqual({ image: dataUri(tall, 'image/png') });
	});

	test.each([
		// Real, complete BMPs (54-byte header + 3 bytes per pixel), just over the limit.
		['wan2.7-image-pro', 2700, 2700],
		['wan2.6-image', 1900, 1900],
		['wan2.5-i2i-preview', 1900, 1900],
	] as const)('%s: a file over its size limit (%i×%i BMP)', async (model, width, height) => {
		const big = bmp(width, height);
		const limit = SPEC[model].fileBytes;
		expect(big.length).toBeGreaterThan(limit);
		expect(big.length).toBeLessThan(limit * 1.1);
		await rejectImage(model, big, 'image/bmp', ['Image 1', `${(big.length / MB).toFixed(1)} MB`, `at most ${limit / MB}.0 MB`]);
	});

	test('wan2.7-image: a 19.5 MB BMP, just under its 20 MB limit, is streamed and arrives byte for byte', async () => {
		const big = bmp(2550, 2550);
		expect(big.length).toBeLessThan(SPEC['wan2.7-image'].fileBytes);
		expect(big.length).toBeGreaterThan(SPEC['wan2.6-image'].fileBytes);
		const req = await expectEditSent('wan2.7-image', await store.store(big, 'image/bmp', 'big.bmp'));
		const sent = decodeDataUri(sentContent(req)[0].image!);
		expect(sent.mime).toBe('image/bmp');
		expect(sent.bytes.equals(big)).toBe(true);
	});

	test('a binary property the item does not have', async () => {
		await expectRejected(
			editWith('wan2.7-image', { binaryPropertyName: 'photo' }),
			twoItems({ json: {}, binary: { data: good } }, { json: {}, binary: { photo: good } }),
			['Image 1', 'no binary property "photo"', '(it has: data)'],
		);
	});

	test('an item without any binary data', async () => {
		await expectRejected(editWith('wan2.7-image'), twoItems({ json: {} }), ['Image 1', 'no binary property "data"', 'no binary data']);
	});

	test.each([
		['not Base64', 'data:image/png,iVBORw0KGgo', 'not Base64-encoded'],
		['Base64 of no image', `data:image/png;base64,${Buffer.from('not an image at all').toString('base64')}`, 'could not be read as an image'],
		['a file: URL', 'file:///etc/passwd', 'file: URL, which DashScope cannot fetch: use a public http(s):// URL, an oss:// path, or a data URI'],
		['not a URL', 'just words', 'invalid URL'],
	] as const)('image URL: %s', async (_label, url, part) => {
		await expectRejected(
			{ ...editWith('wan2.7-image'), inputType: 'url', imageUrl: '={{ $json.url }}' },
			twoItems({ json: { url } }, { json: { url: dataUri(png(300, 300), 'image/png') } }),
			['Image 1', part],
		);
	});
});

describe('region boxes', () => {
	test.each([
		['three boxes (at most 2 per image)', '0,0,10,10; 20,20,30,30; 40,40,50,50', 'has 3 region boxes; at most 2'],
		['a box past the right edge of the 600×400 image', '500,300,601,400', 'lies outside the image, which is 600×400 px'],
		['a box past the bottom edge', '0,0,600,401', 'lies outside the image'],
		['x1 >= x2', '100,10,100,50', 'must satisfy 0 ≤ x1 < x2'],
		['a negative coordinate', '-1,0,10,10', 'must satisfy 0 ≤ x1 < x2'],
		['three numbers', '1,2,3', 'must be four whole numbers'],
	] as const)('%s', async (_label, boxes, part) => {
		await expectRejected(
			editWith('wan2.7-image-pro', { boxes: '={{ $json.boxes }}' }),
			twoItemsWith('boxes', boxes, '0,0,600,400'),
			['Image 1', part],
		);
	});

	test('boxes given as arrays by an expression are sent as bbox_list: one flat box, or a list of boxes', async () => {
		for (const [boxes, expected] of [
			[[10, 20, 300, 200], [[10, 20, 300, 200]]],
			[[[0, 0, 100, 100], [200, 100, 600, 400]], [[0, 0, 100, 100], [200, 100, 600, 400]]],
		] as const) {
			emu.reset();
			const result = await run(
				{ ...editWith('wan2.7-image-pro', { boxes: '={{ $json.boxes }}' }), runMode: 'submit' },
				[{ json: { boxes: boxes as unknown as IDataObject[] }, binary: { data: good } }],
			);
			expect(result.status).toBe('success');
			const req = onlySubmit(emu, KEY, ROUTES.messages);
			expect((req.body as { parameters: IDataObject }).parameters.bbox_list).toEqual([expected]);
		}
	});

	test('boxes on wan2.6-image (no bbox_list there)', async () => {
		await expectRejected(
			{
				operation: 'fuseImages',
				model: 'wan2.6-image',
				prompt: 'combine',
				images: { image: [{ binaryPropertyName: 'data' }, { binaryPropertyName: 'data', boxes: '={{ $json.boxes }}' }] },
			},
			twoItemsWith('boxes', '1,1,50,50', ''),
			['Image 2', 'region boxes', 'do not support'],
		);
	});
});

describe('transparency', () => {
	test("an alpha PNG with transparency 'fail'", async () => {
		const transparent = await store.store(alphaPng(300, 300), 'image/png', 'cutout.png');
		await expectRejected(
			editWith('wan2.7-image', { options: { transparency: 'fail' } }),
			twoItems({ json: {}, binary: { data: transparent } }),
			['Image 1', 'PNG with transparency'],
		);
	});

	test.each([
		['an alpha PNG', alphaPng, 'image/png'],
		// The same picture as a BMP with an alpha mask: red, alpha 0 on the left half, 128 on the right.
		['a transparent 32-bit BMP', (w: number, h: number) => bmp32(w, h, (x) => (x < w / 2 ? 0 : 128)), 'image/bmp'],
	] as const)("'flatten' (the default): %s is sent as an opaque PNG composited onto white", async (_label, make, mime) => {
		const width = 300;
		const height = 240;
		const req = await expectEditSent('wan2.7-image', await store.store(make(width, height), mime, 'cutout'));
		const sent = decodeDataUri(sentContent(req)[0].image!);
		expect(sent.mime).toBe('image/png');
		const decoded = decodePng(sent.bytes);
		expect(decoded).toMatchObject({ width, height, colorType: 2, channels: 3 });
		// out = a·fg + (1 − a)·white: alpha 0 → white; red at alpha 128/255 → (255, 127, 127).
		const pixel = (x: number, y: number) => [...decoded.data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
		const blend = (fg: number) => Math.round((128 * fg + 127 * 255) / 255);
		for (const y of [0, height - 1]) {
			expect(pixel(0, y)).toEqual([255, 255, 255]);
			expect(pixel(width / 2 - 1, y)).toEqual([255, 255, 255]);
			expect(pixel(width / 2, y)).toEqual([blend(255), blend(0), blend(0)]);
			expect(pixel(width - 1, y)).toEqual([blend(255), blend(0), blend(0)]);
		}
		// The emulator, which rejects alpha PNGs, accepted it as an opaque PNG.
		const task = emu.task(submittedTaskId(req))!;
		expect(task.inputImages[0]).toMatchObject({ format: 'png', width, height });
	});

	test('a 32-bit BMP whose header declares an alpha mask but whose pixels are opaque (or leave alpha at 0) is sent byte for byte', async () => {
		for (const alpha of [255, 0]) {
			emu.reset();
			const opaque = bmp32(300, 240, () => alpha);
			const req = await expectEditSent('wan2.7-image', await store.store(opaque, 'image/bmp', 'opaque.bmp'), { options: { transparency: 'fail' } });
			const sent = decodeDataUri(sentContent(req)[0].image!);
			expect(sent.mime).toBe('image/bmp');
			expect(sent.bytes.equals(opaque)).toBe(true);
		}
	});

	test('a JPEG input is never touched by transparency handling', async () => {
		const photo = jpeg(400, 300);
		const req = await expectEditSent('wan2.7-image', await store.store(photo, 'image/jpeg', 'photo.jpg'), { options: { transparency: 'fail' } });
		expect(sentContent(req)[0].image).toBe(dataUri(photo, 'image/jpeg'));
	});
});
