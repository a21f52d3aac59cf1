/**
 * The bad-input suite: what users actually feed the node — expressions that yield objects, arrays,
 * numbers or null; files that lie about their format; truncated and corrupt images; huge declared
 * dimensions; wrong binary field names; URLs that are not URLs; bad options; malformed task IDs — run
 * through the BUILT node in n8n's real engine against the emulator.
 *
 * Every case asserts that the run fails before anything is sent: the error names the item (1-based) and
 * the field, the emulator received 0 requests (all routes, by its own counters), and the API key appears
 * in no error, run data or captured log line. A hang fails the case (a deadline that rejects). Each case
 * records its measured figures in the reliability ledger (test/reliability/ledger.ts) as BI-001…
 *
 * Expected values come from the inputs and DASHSCOPE_API.md §4 (restated where used), not from node code.
 */
import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { setupEngine } from './fixtures/engine';
import {
	KEY,
	alphaPng,
	alphaWebp,
	bmp,
	bmp32,
	dataUri,
	errorText,
	gif,
	heic,
	jpeg,
	png,
	pngHeaderOnly,
	submittedTaskId,
	truncatedAlphaPng,
} from './fixtures/images';
import type { RunResult } from './harness/n8nEngine';
import { recordCase } from './reliability/ledger';

const MB = 1024 * 1024;
/** A run that has not settled by then is a hang: the case fails (it is not skipped). */
const HANG_DEADLINE_MS = 30_000;

const { emu, store, run } = setupEngine();

type Operation = 'generateImage' | 'editImage' | 'fuseImages' | 'generateImageSet' | 'waitForTask' | 'cancelTask';

interface BadInputCase {
	id: string;
	title: string;
	holes?: number[];
	operation: Operation;
	model?: string;
	parameters: IDataObject;
	/** The input items (built lazily: files go into the test's binary store). */
	items: () => Promise<INodeExecutionData[]>;
	/** 1-based item the error must name. */
	item: number;
	/** The field the error must name, as the UI labels it. */
	field: string;
	/** Further parts the message must contain (what is wrong, the limit, the fix). */
	parts?: Array<string | RegExp>;
}

// ------------------------------------------------------------------------------------------- inputs

const stored = async (bytes: Buffer, mime: string, name: string): Promise<IBinaryData> => await store.store(bytes, mime, name);
const goodPng = () => stored(png(600, 400), 'image/png', 'good.png');

/** Two items, each with a valid image in "data": json `ok` on item 1, `bad` on item 2. */
function twoWith(ok: IDataObject, bad: IDataObject): () => Promise<INodeExecutionData[]> {
	return async () => {
		const image = await goodPng();
		return [
			{ json: ok, binary: { data: image } },
			{ json: bad, binary: { data: image } },
		];
	};
}

/** Two items whose "data" is a valid image on item 1 and `bytes` on item 2. */
function secondFile(bytes: Buffer, mime: string, name: string): () => Promise<INodeExecutionData[]> {
	return async () => [
		{ json: {}, binary: { data: await goodPng() } },
		{ json: {}, binary: { data: await stored(bytes, mime, name) } },
	];
}

/** Two items for Fuse Images: fields a and b; on item 2, b holds `bytes`. */
function fuseSecond(bytes: Buffer, mime: string, name: string): () => Promise<INodeExecutionData[]> {
	return async () => {
		const image = await goodPng();
		return [
			{ json: {}, binary: { a: image, b: await goodPng() } },
			{ json: {}, binary: { a: image, b: await stored(bytes, mime, name) } },
		];
	};
}

const jsonItems = (...json: IDataObject[]) => async (): Promise<INodeExecutionData[]> => json.map((j) => ({ json: j }));

const edit = (model: string, extra: IDataObject = {}): IDataObject => ({
	operation: 'editImage',
	model,
	prompt: 'make it brighter',
	inputType: 'binary',
	binaryPropertyName: 'data',
	...extra,
});
const generate = (model: string, extra: IDataObject = {}): IDataObject => ({ operation: 'generateImage', model, prompt: 'a red mug', ...extra });
const fuse = (model: string, extra: IDataObject = {}, images: IDataObject[] = [{ binaryPropertyName: 'a' }, { binaryPropertyName: 'b' }]): IDataObject => ({
	operation: 'fuseImages',
	model,
	prompt: 'put the logo from image 2 on the mug in image 1',
	images: { image: images },
	...extra,
});
const imageSet = (model: string, extra: IDataObject = {}): IDataObject => ({ operation: 'generateImageSet', model, prompt: 'four seasons of a garden', ...extra });

/** A JPEG padded with trailing bytes to exactly `bytes` (the probe reads only its header). */
function jpegOfSize(bytes: number): Buffer {
	const head = jpeg(400, 300);
	return Buffer.concat([head, Buffer.alloc(bytes - head.length, 0)]);
}

const html = Buffer.from('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>');
const validUri = dataUri(png(400, 400), 'image/png');

// -------------------------------------------------------------------------------------------- cases

const cases: BadInputCase[] = [
	// ---- Expressions that yield the wrong type for text and number fields (hole 6) ----
	{ id: 'BI-001', title: 'prompt expression yields an object', holes: [6], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { prompt: '={{ $json.p }}' }), items: twoWith({ p: 'a mug' }, { p: { text: 'a mug' } }),
		item: 2, field: 'Prompt', parts: ['an object', '{"text":"a mug"}', 'pick the field'] },
	{ id: 'BI-002', title: 'prompt expression yields an array', holes: [6], operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { prompt: '={{ $json.p }}' }), items: jsonItems({ p: 'a cube' }, { p: ['a cube', 'a ball'] }),
		item: 2, field: 'Prompt', parts: ['an array with 2 entries', ".join(', ')"] },
	{ id: 'BI-003', title: 'prompt expression yields a boolean', holes: [6], operation: 'fuseImages', model: 'wan2.6-image',
		parameters: fuse('wan2.6-image', { prompt: '={{ $json.p }}' }), items: async () => {
			const image = await goodPng();
			return [{ json: { p: 'fine' }, binary: { a: image, b: image } }, { json: { p: true }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Prompt', parts: ['must be text', 'boolean true'] },
	{ id: 'BI-004', title: 'prompt expression yields null', holes: [6], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { prompt: '={{ $json.p }}' }), items: twoWith({ p: 'ok' }, { p: null }),
		item: 2, field: 'Prompt', parts: ['required', 'empty'] },
	{ id: 'BI-005', title: 'prompt expression yields an empty array', holes: [6], operation: 'generateImageSet', model: 'wan2.7-image-pro',
		parameters: imageSet('wan2.7-image-pro', { prompt: '={{ $json.p }}' }), items: jsonItems({ p: 'ok' }, { p: [] }),
		item: 2, field: 'Prompt', parts: ['an array with 0 entries'] },
	{ id: 'BI-006', title: 'negative prompt expression yields an object', holes: [6], operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image', { modelOptions: { negativePrompt: '={{ $json.n }}' } }), items: twoWith({ n: 'blur' }, { n: { words: ['blur'] } }),
		item: 2, field: 'Negative Prompt', parts: ['an object'] },
	{ id: 'BI-007', title: 'negative prompt expression yields an array', holes: [6], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { modelOptions: { negativePrompt: '={{ $json.n }}' } }), items: twoWith({ n: 'blur' }, { n: ['blur', 'noise'] }),
		item: 2, field: 'Negative Prompt', parts: ['an array with 2 entries', 'join'] },
	{ id: 'BI-008', title: 'custom size expression yields an object', holes: [6], operation: 'generateImage', model: 'wan2.7-image-pro',
		parameters: generate('wan2.7-image-pro', { size: 'custom', customSize: '={{ $json.s }}' }), items: jsonItems({ s: '1024*1024' }, { s: { w: 1024, h: 1024 } }),
		item: 2, field: 'Custom Size', parts: ['an object'] },
	{ id: 'BI-009', title: 'image URL expression yields an object', holes: [6], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { inputType: 'url', imageUrl: '={{ $json.u }}' }), items: jsonItems({ u: validUri }, { u: { url: 'https://example.com/a.png' } }),
		item: 2, field: 'Image URL', parts: ['an object', 'pick the field'] },
	{ id: 'BI-010', title: 'binary field name expression yields an array', holes: [6], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { binaryPropertyName: '={{ $json.f }}' }), items: twoWith({ f: 'data' }, { f: ['data'] }),
		item: 2, field: 'Input Binary Field', parts: ['an array with 1 entry'] },
	{ id: 'BI-011', title: 'second image entry: binary field name expression yields an object', holes: [6], operation: 'fuseImages', model: 'wan2.7-image-pro',
		parameters: fuse('wan2.7-image-pro', {}, [{ binaryPropertyName: 'a' }, { binaryPropertyName: '={{ $json.f }}' }]),
		items: async () => {
			const image = await goodPng();
			return [{ json: { f: 'b' }, binary: { a: image, b: image } }, { json: { f: { name: 'b' } }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Image 2 › Input Binary Field', parts: ['an object'] },
	{ id: 'BI-012', title: 'seed expression yields a word', holes: [6], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { modelOptions: { seed: '={{ $json.seed }}' } }), items: twoWith({ seed: 7 }, { seed: 'random' }),
		item: 2, field: 'Seed', parts: ['"random" is not a whole number', 'leave it empty for a random seed'] },
	{ id: 'BI-013', title: 'seed expression yields an object', holes: [6], operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image', { modelOptions: { seed: '={{ $json.seed }}' } }), items: twoWith({ seed: 1 }, { seed: { value: 1 } }),
		item: 2, field: 'Seed', parts: ['an object'] },
	{ id: 'BI-014', title: 'number of images expression yields a word', holes: [6], operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { numberOfImages: '={{ $json.n }}' }), items: jsonItems({ n: 2 }, { n: 'three' }),
		item: 2, field: 'Number of Images', parts: ['must be a number'] },
	{ id: 'BI-015', title: 'number of images expression yields an array', holes: [6], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { numberOfImages: '={{ $json.n }}' }), items: twoWith({ n: 1 }, { n: [2] }),
		item: 2, field: 'Number of Images', parts: ['an array'] },
	{ id: 'BI-016', title: 'max images (2.6 mixed output) expression yields null', holes: [6], operation: 'generateImage', model: 'wan2.6-image',
		parameters: generate('wan2.6-image', { maxImages: '={{ $json.m }}' }), items: jsonItems({ m: 2 }, { m: null }),
		item: 2, field: 'Max Images', parts: ['is empty'] },
	{ id: 'BI-017', title: 'watermark expression yields "yes"', holes: [6], operation: 'generateImage', model: 'wan2.7-image-pro',
		parameters: generate('wan2.7-image-pro', { modelOptions: { watermark: '={{ $json.w }}' } }), items: jsonItems({ w: false }, { w: 'yes' }),
		item: 2, field: 'Watermark', parts: ['true or false'] },
	{ id: 'BI-018', title: 'prompt rewriting expression yields a number', holes: [6], operation: 'fuseImages', model: 'wan2.5-i2i-preview',
		parameters: fuse('wan2.5-i2i-preview', { modelOptions: { promptExtend: '={{ $json.x }}' } }),
		items: async () => {
			const image = await goodPng();
			return [{ json: { x: true }, binary: { a: image, b: image } }, { json: { x: 1 }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Prompt Rewriting', parts: ['true or false', 'number 1'] },
	{ id: 'BI-019', title: 'number of images "2.5" from a spreadsheet cell', holes: [6], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { numberOfImages: '={{ $json.n }}' }), items: twoWith({ n: '2' }, { n: '2.5' }),
		item: 2, field: 'Number of Images', parts: ['whole number'] },
	{ id: 'BI-020', title: 'image-set size "13" as text (at most 12)', operation: 'generateImageSet', model: 'wan2.7-image',
		parameters: imageSet('wan2.7-image', { numberOfImages: '={{ $json.n }}' }), items: jsonItems({ n: '4' }, { n: '13' }),
		item: 2, field: 'Number of Images', parts: ['at most 12', 'set 1 to 12'] },

	// ---- Prompt length in one unit: UTF-16 code units, for prompt and negative prompt (hole 10) ----
	{ id: 'BI-021', title: '2501 emoji (5002 UTF-16 units) on a 5000 limit', holes: [10], operation: 'generateImage', model: 'wan2.7-image-pro',
		parameters: generate('wan2.7-image-pro', { prompt: '={{ $json.p }}' }), items: jsonItems({ p: '🎨'.repeat(2500) }, { p: '🎨'.repeat(2501) }),
		item: 2, field: 'Prompt', parts: ['5002 characters', 'at most 5000', 'UTF-16', 'shorten it'] },
	{ id: 'BI-022', title: 'negative prompt of 251 emoji (502 units) on a 500 limit', holes: [10], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { modelOptions: { negativePrompt: '={{ $json.n }}' } }), items: twoWith({ n: '🎨'.repeat(250) }, { n: '🎨'.repeat(251) }),
		item: 2, field: 'Negative Prompt', parts: ['502 characters', 'at most 500', 'UTF-16'] },
	{ id: 'BI-023', title: 'prompt of 1000 emoji + 1 letter (2001 units) on a 2000 limit', holes: [10], operation: 'fuseImages', model: 'wan2.6-image',
		parameters: fuse('wan2.6-image', { prompt: '={{ $json.p }}' }),
		items: async () => {
			const image = await goodPng();
			return [{ json: { p: '🎨'.repeat(1000) }, binary: { a: image, b: image } }, { json: { p: `${'🎨'.repeat(1000)}x` }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Prompt', parts: ['2001 characters', 'at most 2000'] },

	// ---- Region boxes from expressions (hole 7) ----
	{ id: 'BI-024', title: 'region boxes: an array of 3 boxes (at most 2)', holes: [7], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { boxes: '={{ $json.b }}' }), items: twoWith({ b: [[0, 0, 10, 10]] }, { b: [[0, 0, 10, 10], [1, 1, 5, 5], [2, 2, 3, 3]] }),
		item: 2, field: 'Region Boxes', parts: ['Image 1', 'has 3 region boxes; at most 2'] },
	{ id: 'BI-025', title: 'region boxes: an object', holes: [7], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { boxes: '={{ $json.b }}' }), items: twoWith({ b: '0,0,10,10' }, { b: { x1: 0, y1: 0, x2: 10, y2: 10 } }),
		item: 2, field: 'Region Boxes', parts: ['Image 1', 'an object', 'x1,y1,x2,y2'] },
	{ id: 'BI-026', title: 'region boxes: one flat array box outside image 2', holes: [7], operation: 'fuseImages', model: 'wan2.7-image-pro',
		parameters: fuse('wan2.7-image-pro', {}, [{ binaryPropertyName: 'a' }, { binaryPropertyName: 'b', boxes: '={{ $json.b }}' }]),
		items: async () => {
			const image = await goodPng();
			return [{ json: { b: [0, 0, 600, 400] }, binary: { a: image, b: image } }, { json: { b: [0, 0, 700, 10] }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Region Boxes', parts: ['Image 2', 'lies outside the image, which is 600×400 px'] },
	{ id: 'BI-027', title: 'region boxes: an array with a text coordinate', holes: [7], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { boxes: '={{ $json.b }}' }), items: twoWith({ b: [] }, { b: [[0, 0, 'a', 10]] }),
		item: 2, field: 'Region Boxes', parts: ['box 1 must be four whole numbers'] },
	{ id: 'BI-028', title: 'region boxes array on Wan 2.6 (no boxes there)', holes: [7], operation: 'fuseImages', model: 'wan2.6-image',
		parameters: fuse('wan2.6-image', {}, [{ binaryPropertyName: 'a', boxes: '={{ $json.b }}' }, { binaryPropertyName: 'b' }]),
		items: async () => {
			const image = await goodPng();
			return [{ json: { b: [] }, binary: { a: image, b: image } }, { json: { b: [[0, 0, 10, 10]] }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Region Boxes', parts: ['Image 1', 'do not support', 'clear the field'] },
	{ id: 'BI-029', title: 'region boxes: a number', holes: [7], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { boxes: '={{ $json.b }}' }), items: twoWith({ b: '' }, { b: 42 }),
		item: 2, field: 'Region Boxes', parts: ['number 42'] },

	// ---- Images: corrupt, truncated, huge, lying about their format (holes 1, 9, 15) ----
	{ id: 'BI-030', title: 'transparent PNG with fewer rows than its header declares', holes: [1], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image'), items: secondFile(truncatedAlphaPng(400, 300, 100), 'image/png', 'cutout.png'),
		item: 2, field: 'Image 1', parts: ['400×300 px PNG with transparency', 'is damaged', 'cannot be flattened', 'export it again'] },
	{ id: 'BI-031', title: 'fusion: truncated transparent PNG as image 2', holes: [1], operation: 'fuseImages', model: 'wan2.7-image-pro',
		parameters: fuse('wan2.7-image-pro'), items: fuseSecond(truncatedAlphaPng(500, 500, 1), 'image/png', 'logo.png'),
		item: 2, field: 'Image 2', parts: ['is damaged', 'cannot decode PNG'] },
	{ id: 'BI-032', title: 'RGBA PNG whose header claims 100000×100000', holes: [9], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image'), items: secondFile(pngHeaderOnly(100000, 100000), 'image/png', 'huge.png'),
		item: 2, field: 'Image 1', parts: ['100000×100000 px', 'between 240 and 8000 px', 'scale it down'] },
	{ id: 'BI-033', title: 'RGBA PNG header 6000×6000 on Wan 2.5 (max 5000)', holes: [9], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview'), items: secondFile(pngHeaderOnly(6000, 6000), 'image/png', 'big.png'),
		item: 2, field: 'Image 1', parts: ['6000×6000 px', 'between 384 and 5000 px'] },
	{ id: 'BI-034', title: 'RGBA PNG header 300×3000 (aspect 1:10, limit 1:8)', holes: [9], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro'), items: secondFile(pngHeaderOnly(300, 3000), 'image/png', 'tall.png'),
		item: 2, field: 'Image 1', parts: ['aspect ratio 1:10', '1:8', 'crop'] },
	{ id: 'BI-035', title: 'RGBA PNG one byte over 10 MB on Wan 2.6', holes: [9, 15], operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image'), items: secondFile(pngHeaderOnly(1000, 1000, 6, 10 * MB + 1), 'image/png', 'heavy.png'),
		item: 2, field: 'Image 1', parts: ['10.0 MB (10,485,761 bytes)', 'at most 10.0 MB (10,485,760 bytes)', 'compress'] },
	{ id: 'BI-036', title: 'JPEG one byte over 20 MB on Wan 2.7 Pro', holes: [15], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro'), items: secondFile(jpegOfSize(20 * MB + 1), 'image/jpeg', 'photo.jpg'),
		item: 2, field: 'Image 1', parts: ['20.0 MB (20,971,521 bytes)', 'at most 20.0 MB (20,971,520 bytes)'] },
	{ id: 'BI-037', title: 'data URI without its comma', holes: [15], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { inputType: 'url', imageUrl: '={{ $json.u }}' }),
		items: jsonItems({ u: validUri }, { u: validUri.replace(';base64,', ';base64') }),
		item: 2, field: 'Image URL', parts: ['without the comma', 'data:image/png;base64,<Base64 data>'] },
	{ id: 'BI-038', title: 'data URI whose data is not Base64', holes: [15], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { inputType: 'url', imageUrl: '={{ $json.u }}' }),
		items: jsonItems({ u: validUri }, { u: 'data:image/png;base64,iVBORw0KGgo!!notbase64' }),
		item: 2, field: 'Image URL', parts: ['not valid Base64', 'character "!"'] },
	{ id: 'BI-039', title: 'data URI that is not Base64-encoded', operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image', { inputType: 'url', imageUrl: '={{ $json.u }}' }), items: jsonItems({ u: validUri }, { u: 'data:image/png,%89PNG' }),
		item: 2, field: 'Image URL', parts: ['not Base64-encoded'] },
	{ id: 'BI-040', title: 'an ftp:// URL', operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { inputType: 'url', imageUrl: '={{ $json.u }}' }), items: jsonItems({ u: validUri }, { u: 'ftp://example.com/a.png' }),
		item: 2, field: 'Image URL', parts: ['ftp: URL', 'http(s)://'] },
	{ id: 'BI-041', title: 'a URL without a scheme', operation: 'fuseImages', model: 'wan2.7-image',
		parameters: fuse('wan2.7-image', {}, [{ inputType: 'url', imageUrl: '={{ $json.u }}' }, { inputType: 'url', imageUrl: validUri }]),
		items: jsonItems({ u: validUri }, { u: 'www.example.com/cat.png' }),
		item: 2, field: 'Image URL', parts: ['Image 1', 'invalid URL'] },
	{ id: 'BI-042', title: 'image URL expression yields nothing', operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { inputType: 'url', imageUrl: '={{ $json.u }}' }), items: jsonItems({ u: validUri }, {}),
		item: 2, field: 'Image URL', parts: ['is empty'] },
	{ id: 'BI-043', title: 'an HTML sign-in page saved as image/png', operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro'), items: secondFile(html, 'image/png', 'photo.png'),
		item: 2, field: 'Image 1', parts: ['could not be read as an image', 'HTML page'] },
	{ id: 'BI-044', title: 'a GIF that claims to be a JPEG', operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image'), items: secondFile(gif(500, 500), 'image/jpeg', 'photo.jpg'),
		item: 2, field: 'Image 1', parts: ['is GIF', 'JPEG, PNG, BMP, WEBP', 'convert it'] },
	{ id: 'BI-045', title: 'an iPhone HEIC labelled image/jpeg', operation: 'fuseImages', model: 'wan2.5-i2i-preview',
		parameters: fuse('wan2.5-i2i-preview'), items: fuseSecond(heic(), 'image/jpeg', 'IMG_0001.jpg'),
		item: 2, field: 'Image 2', parts: ['is HEIC'] },
	{ id: 'BI-046', title: 'a PNG cut off inside its header', operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image'), items: secondFile(png(400, 400).subarray(0, 20), 'image/png', 'cut.png'),
		item: 2, field: 'Image 1', parts: ['could not be read as an image', 'truncated PNG header'] },
	{ id: 'BI-047', title: 'a JPEG cut off before its frame header', operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro'), items: secondFile(jpeg(400, 300).subarray(0, 30), 'image/jpeg', 'cut.jpg'),
		item: 2, field: 'Image 1', parts: ['could not be read as an image', 'JPEG'] },
	{ id: 'BI-048', title: 'an empty file', operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview'), items: secondFile(Buffer.alloc(0), 'image/png', 'empty.png'),
		item: 2, field: 'Image 1', parts: ['the file is empty'] },
	{ id: 'BI-049', title: 'a transparent WebP (no WebP decoder is bundled)', operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image'), items: secondFile(alphaWebp(400, 400), 'image/webp', 'cutout.webp'),
		item: 2, field: 'Image 1', parts: ['WEBP with transparency', 'cannot flatten', 'convert it to PNG'] },
	{ id: 'BI-050', title: 'a transparent 32-bit BMP with Transparent Images = Fail', operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { options: { transparency: 'fail' } }),
		items: secondFile(bmp32(300, 300, (x) => (x < 150 ? 0 : 255)), 'image/bmp', 'cutout.bmp'),
		item: 2, field: 'Image 1', parts: ['BMP with transparency', 'Flatten Onto White'] },
	{ id: 'BI-051', title: 'a transparent 32-bit BMP cut short', operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image'), items: secondFile(bmp32(300, 300, () => 128, 4000), 'image/bmp', 'cut.bmp'),
		item: 2, field: 'Image 1', parts: ['is damaged', 'truncated BMP'] },
	{ id: 'BI-052', title: 'fusion: a binary field name the item does not have', operation: 'fuseImages', model: 'wan2.7-image-pro',
		parameters: fuse('wan2.7-image-pro', {}, [{ binaryPropertyName: 'a' }, { binaryPropertyName: '={{ $json.f }}' }]),
		items: async () => {
			const image = await goodPng();
			return [{ json: { f: 'b' }, binary: { a: image, b: image } }, { json: { f: 'logo' }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Image 2', parts: ['no binary property "logo"', '(it has: a, b)', 'set Input Binary Field'] },
	{ id: 'BI-053', title: 'image set reference on an item without binary data', operation: 'generateImageSet', model: 'wan2.7-image',
		parameters: imageSet('wan2.7-image', { images: { image: [{ binaryPropertyName: 'data' }] } }),
		items: async () => [{ json: {}, binary: { data: await goodPng() } }, { json: {} }],
		item: 2, field: 'Image 1', parts: ['no binary data'] },
	{ id: 'BI-054', title: 'Input Binary Field is blank', operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { binaryPropertyName: '={{ $json.f }}' }), items: twoWith({ f: 'data' }, { f: '   ' }),
		item: 2, field: 'Input Binary Field', parts: ['is empty'] },
	{ id: 'BI-055', title: 'Wan 2.6 fusion with 5 images from all binary fields', operation: 'fuseImages', model: 'wan2.6-image',
		parameters: { operation: 'fuseImages', model: 'wan2.6-image', prompt: 'combine', imagesFrom: 'allBinary' },
		items: async (): Promise<INodeExecutionData[]> => {
			const image = await goodPng();
			return [{ json: {}, binary: { a: image, b: image } }, { json: {}, binary: { a: image, b: image, c: image, d: image, e: image } }];
		},
		item: 2, field: 'Images', parts: ['2 to 4', 'got 5'] },
	{ id: 'BI-056', title: 'a 383×400 image on Wan 2.5 (min 384)', operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview'), items: secondFile(bmp(383, 400), 'image/bmp', 'small.bmp'),
		item: 2, field: 'Image 1', parts: ['383×400 px', 'scale it up'] },

	// ---- Options checked before submitting (hole 13) ----
	{ id: 'BI-057', title: 'Timeout "abc"', holes: [13], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { options: { timeoutSeconds: '={{ $json.t }}' } }), items: twoWith({ t: 60 }, { t: 'abc' }),
		item: 2, field: 'Timeout (Seconds)', parts: ['must be a number between 1 and 86400 seconds'] },
	{ id: 'BI-058', title: 'Timeout 0', holes: [13], operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { options: { timeoutSeconds: '={{ $json.t }}' } }), items: jsonItems({ t: 30 }, { t: 0 }),
		item: 2, field: 'Timeout (Seconds)', parts: ['between 1 and 86400', 'got 0'] },
	{ id: 'BI-059', title: 'Poll Interval -1', holes: [13], operation: 'fuseImages', model: 'wan2.6-image',
		parameters: fuse('wan2.6-image', { options: { pollIntervalSeconds: '={{ $json.p }}' } }),
		items: async () => {
			const image = await goodPng();
			return [{ json: { p: 1 }, binary: { a: image, b: image } }, { json: { p: -1 }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Poll Interval (Seconds)', parts: ['between 0 and 600'] },
	{ id: 'BI-060', title: 'Concurrency 0', holes: [13], operation: 'generateImageSet', model: 'wan2.7-image-pro',
		parameters: imageSet('wan2.7-image-pro', { options: { concurrency: 0 } }), items: jsonItems({}, {}),
		item: 1, field: 'Concurrency', parts: ['between 1 and 20'] },
	{ id: 'BI-061', title: 'Concurrency 2.5', holes: [13], operation: 'editImage', model: 'wan2.5-i2i-preview',
		parameters: edit('wan2.5-i2i-preview', { options: { concurrency: 2.5 } }), items: twoWith({}, {}),
		item: 1, field: 'Concurrency', parts: ['whole number'] },
	{ id: 'BI-062', title: 'File Name with an unknown token {{taskid}}', holes: [13], operation: 'generateImage', model: 'wan2.6-image',
		parameters: generate('wan2.6-image', { options: { fileNameTemplate: '{{taskid}}-{{index}}.{{ext}}' } }), items: jsonItems({}, {}),
		item: 1, field: 'File Name', parts: ['unknown token {{taskid}}', '{taskId}'] },
	{ id: 'BI-063', title: 'File Name expression yields an object', holes: [13], operation: 'editImage', model: 'wan2.7-image',
		parameters: edit('wan2.7-image', { options: { fileNameTemplate: '={{ $json.n }}' } }), items: twoWith({ n: 'mug-{{index}}.{{ext}}' }, { n: { sku: 'MUG-1' } }),
		item: 2, field: 'File Name', parts: ['must be text', 'an object'] },
	{ id: 'BI-064', title: 'Transparent Images "remove"', holes: [13], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro', { options: { transparency: '={{ $json.t }}' } }), items: twoWith({ t: 'fail' }, { t: 'remove' }),
		item: 2, field: 'Transparent Images', parts: ['"flatten", "fail"'] },
	{ id: 'BI-065', title: 'Wait for Task: Timeout "soon"', holes: [13], operation: 'waitForTask',
		parameters: { operation: 'waitForTask', taskIds: '={{ $json.id }}', options: { timeoutSeconds: '={{ $json.t }}' } },
		items: jsonItems({ id: 'task-1', t: 10 }, { id: 'task-2', t: 'soon' }),
		item: 2, field: 'Timeout (Seconds)', parts: ['must be a number'] },
	{ id: 'BI-066', title: 'Output Binary Field expression yields an array', holes: [13], operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { options: { outputBinaryPropertyName: '={{ $json.b }}' } }), items: jsonItems({ b: 'image' }, { b: ['image'] }),
		item: 2, field: 'Output Binary Field', parts: ['an array'] },
	{ id: 'BI-067', title: 'Cancel Pending "maybe"', holes: [13], operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image', { options: { cancelPending: '={{ $json.c }}' } }), items: twoWith({ c: true }, { c: 'maybe' }),
		item: 2, field: 'Cancel Pending Task', parts: ['true or false'] },
	{ id: 'BI-068', title: 'File Name with a line break', holes: [13], operation: 'fuseImages', model: 'wan2.7-image',
		parameters: fuse('wan2.7-image', { options: { fileNameTemplate: '={{ $json.n }}' } }),
		items: async () => {
			const image = await goodPng();
			return [{ json: { n: 'a-{{index}}' }, binary: { a: image, b: image } }, { json: { n: 'a\n{{index}}' }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'File Name', parts: ['control character'] },

	// ---- Task IDs: one validator for Wait for Task and Cancel Task (hole 14) ----
	{ id: 'BI-069', title: 'Cancel Task with ".."', holes: [14], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: '..' }),
		item: 2, field: 'Task ID', parts: ['".." is not a DashScope task ID'] },
	{ id: 'BI-070', title: 'Cancel Task with "."', holes: [14], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: '.' }),
		item: 2, field: 'Task ID', parts: ['"." is not a DashScope task ID'] },
	{ id: 'BI-071', title: 'Cancel Task with a path', holes: [14], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: 'abc/../../tasks' }),
		item: 2, field: 'Task ID', parts: ['is not a DashScope task ID'] },
	{ id: 'BI-072', title: 'Cancel Task with two IDs separated by a space', holes: [14], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: 'abc-1 abc-2' }),
		item: 2, field: 'Task ID', parts: ['holds 2 IDs', 'one item each'] },
	{ id: 'BI-073', title: 'Cancel Task with an empty ID', holes: [14], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: '' }),
		item: 2, field: 'Task ID', parts: ['is empty'] },
	{ id: 'BI-074', title: 'Cancel Task ID expression yields an object', holes: [14, 6], operation: 'cancelTask',
		parameters: { operation: 'cancelTask', taskId: '={{ $json.task }}' }, items: jsonItems({ task: 'abc-123' }, { task: { taskId: 'abc-123' } }),
		item: 2, field: 'Task ID', parts: ['an object', '$json.taskId'] },
	{ id: 'BI-075', title: 'Wait for Task with "../tasks"', holes: [14], operation: 'waitForTask',
		parameters: { operation: 'waitForTask', taskIds: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-123' }, { id: '../tasks' }),
		item: 2, field: 'Task IDs', parts: ['"../tasks" is not a DashScope task ID'] },
	{ id: 'BI-076', title: 'Wait for Task with an array holding an object', holes: [14, 6], operation: 'waitForTask',
		parameters: { operation: 'waitForTask', taskIds: '={{ $json.ids }}' }, items: jsonItems({ ids: ['abc-1'] }, { ids: ['abc-1', { id: 2 }] }),
		item: 2, field: 'Task IDs', parts: ['an object'] },
	{ id: 'BI-077', title: 'Wait for Task ID expression yields null', holes: [14], operation: 'waitForTask',
		parameters: { operation: 'waitForTask', taskIds: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-1' }, { id: null }),
		item: 2, field: 'Task IDs', parts: ['is empty'] },
	{ id: 'BI-078', title: 'Wait for Task with a space inside an ID list and a stray "."', holes: [14], operation: 'waitForTask',
		parameters: { operation: 'waitForTask', taskIds: '={{ $json.id }}' }, items: jsonItems({ id: 'abc-1' }, { id: 'abc-1, ., abc-2' }),
		item: 2, field: 'Task IDs', parts: ['"." is not a DashScope task ID'] },

	// ---- A few more everyday slips ----
	{ id: 'BI-079', title: 'colour palette share "lots"', operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { modelOptions: { colorPalette: { color: [{ hex: '#112233', ratio: 50 }, { hex: '#445566', ratio: 25 }, { hex: '#778899', ratio: '={{ $json.r }}' }] } } }),
		items: jsonItems({ r: 25 }, { r: 'lots' }),
		item: 2, field: 'Color Palette', parts: ['#3', 'must be a number'] },
	{ id: 'BI-080', title: 'size "8K" from an expression', operation: 'generateImage', model: 'wan2.7-image-pro',
		parameters: generate('wan2.7-image-pro', { size: 'custom', customSize: '={{ $json.s }}' }), items: jsonItems({ s: '2K' }, { s: '8k' }),
		item: 2, field: 'Size', parts: ['"8K" is not a size this model accepts'] },
	{ id: 'BI-081', title: 'a 4×4 icon (after a prompt given as a number, which is fine)', operation: 'editImage', model: 'wan2.6-image',
		parameters: edit('wan2.6-image', { prompt: '={{ $json.p }}' }),
		items: async () => [{ json: { p: 42 }, binary: { data: await goodPng() } }, { json: { p: 42 }, binary: { data: await stored(png(4, 4), 'image/png', 'icon.png') } }],
		item: 2, field: 'Image 1', parts: ['4×4 px', 'between 240 and 8000 px', 'scale it up'] },
	{ id: 'BI-082', title: 'an alpha PNG that is fine, then an item whose PNG is only a signature', holes: [1, 9], operation: 'editImage', model: 'wan2.7-image-pro',
		parameters: edit('wan2.7-image-pro'),
		items: async () => [
			{ json: {}, binary: { data: await stored(alphaPng(300, 300), 'image/png', 'ok.png') } },
			{ json: {}, binary: { data: await stored(png(300, 300).subarray(0, 8), 'image/png', 'sig.png') } },
		],
		item: 2, field: 'Image 1', parts: ['could not be read as an image'] },
	{ id: 'BI-083', title: 'region boxes as JSON text that is cut off', holes: [7], operation: 'fuseImages', model: 'wan2.7-image',
		parameters: fuse('wan2.7-image', {}, [{ binaryPropertyName: 'a', boxes: '={{ $json.b }}' }, { binaryPropertyName: 'b' }]),
		items: async () => {
			const image = await goodPng();
			return [{ json: { b: '[[0,0,10,10]]' }, binary: { a: image, b: image } }, { json: { b: '[[0,0,10,10]' }, binary: { a: image, b: image } }];
		},
		item: 2, field: 'Region Boxes', parts: ['Image 1', 'is not valid JSON'] },
	{ id: 'BI-084', title: 'a cut-off transparent PNG with Transparent Images = Fail: refused for its alpha, not decoded', holes: [1, 9], operation: 'generateImageSet', model: 'wan2.7-image-pro',
		parameters: imageSet('wan2.7-image-pro', { images: { image: [{ binaryPropertyName: 'data' }] }, options: { transparency: 'fail' } }),
		items: secondFile(truncatedAlphaPng(400, 400, 3), 'image/png', 'cutout.png'),
		item: 2, field: 'Image 1', parts: ['PNG with transparency', 'Flatten Onto White'] },
	{ id: 'BI-085', title: 'custom size chosen but the expression gives an empty cell', operation: 'generateImage', model: 'wan2.7-image',
		parameters: generate('wan2.7-image', { size: 'custom', customSize: '={{ $json.s }}' }), items: jsonItems({ s: '1024*1536' }, { s: '' }),
		item: 2, field: 'Custom Size', parts: ['is empty', 'e.g. 1024*1536'] },
];

// ----------------------------------------------------------------------------------------- the runner

/** Rejects when `promise` has not settled within `ms`: a hang fails the case. */
async function withinDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s (a hang)`)), ms);
	});
	try {
		return await Promise.race([promise, deadline]);
	} finally {
		clearTimeout(timer);
	}
}

/** Console output during a run, as n8n's logger and the node would write it. */
function captureLogs(): { lines: string[]; restore(): void } {
	const lines: string[] = [];
	const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
	const spies = methods.map((method) =>
		jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
			lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
		}),
	);
	return { lines, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

function countOccurrences(text: string, needle: string): number {
	return needle ? text.split(needle).length - 1 : 0;
}

test('the suite has at least 60 cases with unique ids, across all four models and every operation', () => {
	expect(cases.length).toBeGreaterThanOrEqual(60);
	expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
	expect(new Set(cases.map((c) => c.model).filter(Boolean))).toEqual(new Set(['wan2.7-image-pro', 'wan2.7-image', 'wan2.6-image', 'wan2.5-i2i-preview']));
	expect(new Set(cases.map((c) => c.operation))).toEqual(
		new Set(['generateImage', 'editImage', 'fuseImages', 'generateImageSet', 'waitForTask', 'cancelTask']),
	);
	for (const hole of [1, 6, 7, 9, 10, 13, 14, 15]) expect(cases.some((c) => c.holes?.includes(hole))).toBe(true);
});

describe.each(cases.map((c) => [`${c.id} ${c.title}`, c] as const))('%s', (_name, c) => {
	test('refused before any request, naming the item and the field; the key appears nowhere', async () => {
		const items = await c.items();
		const logs = captureLogs();
		const result: RunResult = await withinDeadline(run(c.parameters, items), HANG_DEADLINE_MS, c.id).finally(() => logs.restore());
		let passed = false;
		const message = result.error?.message ?? '';
		const counters = emu.counters();
		const requests = emu.requests();
		// Tasks the emulator created (none are due): each must be named somewhere, or it counts as unreported.
		const everything = [errorText(result.error), JSON.stringify(result.run), ...logs.lines].join('\n');
		const created = requests.filter((r) => r.kind === 'submit' && r.status === 200).map(submittedTaskId);
		const unreported = created.filter((id) => !everything.includes(id));
		try {
			expect(result.status).toBe('error');
			expect(result.items).toHaveLength(0);
			expect(message.startsWith(`Item ${c.item}: `)).toBe(true);
			expect(message).toContain(c.field);
			for (const part of c.parts ?? []) {
				if (typeof part === 'string') expect(message).toContain(part);
				else expect(message).toMatch(part);
			}
			expect(message).not.toContain('[object Object]');
			expect(requests).toHaveLength(0);
			expect(counters.submitAttempts + counters.queries + counters.cancels + counters.lists + counters.syncCalls).toBe(0);
			expect(countOccurrences(everything, KEY)).toBe(0);
			passed = true;
		} finally {
			recordCase({
				suite: 'bad-input',
				id: c.id,
				title: c.title,
				holes: c.holes,
				model: c.model,
				operation: c.operation,
				outcome: passed ? `refused: "${message.slice(0, 110)}${message.length > 110 ? '…' : ''}"` : `FAILED: ${result.status} "${message.slice(0, 80)}"`,
				requestsSent: requests.length,
				tasksCreated: counters.submissions,
				logicalTasks: 0,
				duplicateTasks: Math.max(0, counters.submissions - 0),
				lostImages: created.filter((id) => !everything.includes(id)).reduce((sum, id) => sum + (emu.task(id)?.producedImages ?? 0), 0),
				unreportedTaskIds: unreported.length,
				keyAppearances: countOccurrences(everything, KEY),
				passed,
			});
		}
	}, HANG_DEADLINE_MS + 15_000);
});
