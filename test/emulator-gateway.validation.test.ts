/**
 * Gateway emulator (seed dialect): every field of `POST /v1/images/generations` checked strictly
 * against seed 002's limits (table-driven), each refusal an OpenAI error envelope naming the field in
 * `param`, with nothing generated or billed. Then the edges that must pass.
 */
import { deflateSync } from 'node:zlib';

import { pngChunk } from './emulator/png';
import { bmpImage, dataUri, expectError, generation, jpegImage, pngImage, post, PRO, serveFiles, setupGateway, STANDARD, webpImage } from './emulator-gateway/fixtures';

const emu = setupGateway();

const png = dataUri(pngImage(320, 240));
const images = (n: number) => ({ image: Array.from({ length: n }, () => png) });
const palette = (ratios: string[]) => ratios.map((ratio, i) => ({ hex: `#${(i * 25).toString(16).padStart(2, '0')}A0C0`, ratio }));

let files: Awaited<ReturnType<typeof serveFiles>>;
beforeAll(async () => {
	files = await serveFiles({ '/photo.png': pngImage(400, 300), '/photo.jpg': jpegImage(300, 400), '/notes.txt': Buffer.from('hello, not an image') });
});
afterAll(() => files.close());

/** `bytes` without its last `n` bytes (a truncated upload or download). */
const cut = (bytes: Buffer, n: number): Buffer => bytes.subarray(0, bytes.length - n);

/** A complete, well-formed PNG whose IDAT inflates to one row fewer than its header announces. */
function shortPng(): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(300, 0);
	ihdr.writeUInt32BE(300, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	const rows = deflateSync(Buffer.alloc(299 * (1 + 300 * 3)));
	return Buffer.concat([pngImage(300, 300).subarray(0, 8), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

type Case = [name: string, over: Record<string, unknown> | (() => Record<string, unknown>), status: number, code: string, param: string | null];

const BAD: Case[] = [
	// unknown fields (seed dialect: strict)
	['images (the other dialect’s field)', { images: [png] }, 400, 'unknown_parameter', 'images'],
	['quality (an OpenAI field with no meaning here)', { quality: 'hd' }, 400, 'unknown_parameter', 'quality'],
	['negative_prompt (not on 2.7)', { negative_prompt: 'blurry' }, 400, 'unknown_parameter', 'negative_prompt'],
	// model
	['model missing', { model: undefined }, 400, 'InvalidParameter', 'model'],
	['model not a string', { model: 27 }, 400, 'InvalidParameter', 'model'],
	['model of another family', { model: 'wan2.6-image' }, 404, 'model_not_found', 'model'],
	// prompt
	['prompt missing', { prompt: undefined }, 400, 'InvalidParameter', 'prompt'],
	['prompt not a string', { prompt: ['a'] }, 400, 'InvalidParameter', 'prompt'],
	['prompt empty', { prompt: '' }, 400, 'InvalidParameter', 'prompt'],
	['prompt blank with an image (seed: prompt always required)', { prompt: '  ', image: png }, 400, 'InvalidParameter', 'prompt'],
	['prompt 5001 characters', { prompt: 'x'.repeat(5001) }, 400, 'InvalidParameter', 'prompt'],
	['prompt 5001 characters of astral emoji', { prompt: '😀'.repeat(5001) }, 400, 'InvalidParameter', 'prompt'],
	// image field shape and count
	['image a number', { image: 5 }, 400, 'InvalidParameter', 'image'],
	['image an object', { image: { url: png } }, 400, 'InvalidParameter', 'image'],
	['image an empty array', { image: [] }, 400, 'InvalidParameter', 'image'],
	['image: 10 images', images(10), 400, 'InvalidParameter', 'image'],
	['image entry not a string', { image: [png, 7] }, 400, 'InvalidParameter', 'image'],
	['image entry empty', { image: [''] }, 400, 'InvalidParameter', 'image'],
	['image bare base64 (not promised by the seed)', { image: pngImage(300, 300).toString('base64') }, 400, 'InvalidParameter', 'image'],
	['image ftp URL', { image: 'ftp://127.0.0.1/a.png' }, 400, 'InvalidParameter', 'image'],
	['image data URI not base64', { image: 'data:image/png,abc' }, 400, 'InvalidParameter', 'image'],
	['image data URI with bad base64', { image: 'data:image/png;base64,@@@@' }, 400, 'InvalidParameter', 'image'],
	['image data URI of image/gif', { image: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' }, 400, 'InvalidParameter', 'image'],
	['image MIME png but JPEG bytes', { image: dataUri(jpegImage(300, 300), 'image/png') }, 400, 'InvalidParameter', 'image'],
	['image bytes not an image', { image: dataUri(Buffer.from('plain text, not a picture'), 'image/png') }, 400, 'InvalidParameter', 'image'],
	['image PNG with alpha', { image: dataUri(pngImage(300, 300, [1, 2, 3], true)) }, 400, 'InvalidParameter', 'image'],
	['image 239 px side', { image: dataUri(pngImage(239, 300)) }, 400, 'InvalidParameter', 'image'],
	['image aspect 9:1', { image: dataUri(pngImage(2250, 250)) }, 400, 'InvalidParameter', 'image'],
	['image larger than 20 MB', () => ({ image: dataUri(Buffer.concat([bmpImage(300, 300), Buffer.alloc(20 * 1024 * 1024)]), 'image/bmp') }), 400, 'InvalidParameter', 'image'],
	['image PNG cut off mid-data', () => ({ image: dataUri(cut(pngImage(300, 300), 40)) }), 400, 'InvalidParameter', 'image'],
	['image PNG whose pixel data is short', () => ({ image: dataUri(shortPng()) }), 400, 'InvalidParameter', 'image'],
	['image JPEG cut off', () => ({ image: dataUri(cut(jpegImage(300, 300), 200), 'image/jpeg') }), 400, 'InvalidParameter', 'image'],
	['image WEBP cut off', () => ({ image: dataUri(cut(webpImage(300, 300), 200), 'image/webp') }), 400, 'InvalidParameter', 'image'],
	['image BMP cut off', () => ({ image: dataUri(cut(bmpImage(300, 300), 900), 'image/bmp') }), 400, 'InvalidParameter', 'image'],
	['image URL on a foreign host', { image: 'http://example.com/a.png' }, 400, 'InvalidParameter', 'image'],
	['image URL answering 404', () => ({ image: `${files.origin}/missing.png` }), 400, 'InvalidParameter', 'image'],
	['image URL serving text', () => ({ image: `${files.origin}/notes.txt` }), 400, 'InvalidParameter', 'image'],
	// n
	['n 0', { n: 0 }, 400, 'InvalidParameter', 'n'],
	['n 5 (sequential off)', { n: 5 }, 400, 'InvalidParameter', 'n'],
	['n 13 (sequential on)', { n: 13, enable_sequential: true }, 400, 'InvalidParameter', 'n'],
	['n 1.5', { n: 1.5 }, 400, 'InvalidParameter', 'n'],
	['n as a string', { n: '2' }, 400, 'InvalidParameter', 'n'],
	// size
	['size 3K', { size: '3K' }, 400, 'InvalidParameter', 'size'],
	['size lower-case 2k', { size: '2k' }, 400, 'InvalidParameter', 'size'],
	['size W*H in the seed dialect', { size: '1536*1024' }, 400, 'InvalidParameter', 'size'],
	['size a number', { size: 1024 }, 400, 'InvalidParameter', 'size'],
	['size 4K on the standard model', { size: '4K' }, 400, 'InvalidParameter', 'size'],
	['size 4K on Pro with an image', { model: PRO, size: '4K', image: png }, 400, 'InvalidParameter', 'size'],
	['size 4K on Pro with enable_sequential', { model: PRO, size: '4K', enable_sequential: true, n: 2 }, 400, 'InvalidParameter', 'size'],
	['size below 768x768 pixels', { size: '700x700' }, 400, 'InvalidParameter', 'size'],
	['size above 2048x2048 on the standard model', { size: '2560x2048' }, 400, 'InvalidParameter', 'size'],
	['size above 4096x4096 on Pro', { model: PRO, size: '4097x4096' }, 400, 'InvalidParameter', 'size'],
	['size aspect 9:1', { size: '3600x400' }, 400, 'InvalidParameter', 'size'],
	// booleans
	['enable_sequential as a string', { enable_sequential: 'true' }, 400, 'InvalidParameter', 'enable_sequential'],
	['thinking_mode as 1', { thinking_mode: 1 }, 400, 'InvalidParameter', 'thinking_mode'],
	['watermark null', { watermark: null }, 400, 'InvalidParameter', 'watermark'],
	// seed
	['seed -1', { seed: -1 }, 400, 'InvalidParameter', 'seed'],
	['seed 2147483648', { seed: 2147483648 }, 400, 'InvalidParameter', 'seed'],
	['seed 1.5', { seed: 1.5 }, 400, 'InvalidParameter', 'seed'],
	['seed as a string', { seed: '42' }, 400, 'InvalidParameter', 'seed'],
	// response_format
	['response_format png', { response_format: 'png' }, 400, 'InvalidParameter', 'response_format'],
	['response_format B64_JSON', { response_format: 'B64_JSON' }, 400, 'InvalidParameter', 'response_format'],
	// bbox_list
	['bbox_list without images', { bbox_list: [[]] }, 400, 'InvalidParameter', 'bbox_list'],
	['bbox_list length ≠ image count', { ...images(2), bbox_list: [[]] }, 400, 'InvalidParameter', 'bbox_list'],
	['bbox_list 3 boxes on one image', { image: [png], bbox_list: [[[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]] }, 400, 'InvalidParameter', 'bbox_list'],
	['bbox_list x1 >= x2', { image: [png], bbox_list: [[[50, 0, 10, 10]]] }, 400, 'InvalidParameter', 'bbox_list'],
	['bbox_list box of 3 numbers', { image: [png], bbox_list: [[[0, 0, 10]]] }, 400, 'InvalidParameter', 'bbox_list'],
	// color_palette
	['color_palette 2 colours', { color_palette: palette(['50.00%', '50.00%']) }, 400, 'InvalidParameter', 'color_palette'],
	['color_palette sum 99.99%', { color_palette: palette(['33.33%', '33.33%', '33.33%']) }, 400, 'InvalidParameter', 'color_palette'],
	['color_palette ratio as a number', { color_palette: palette(['50.00%', '25.00%']).concat([{ hex: '#FFFFFF', ratio: 25 as unknown as string }]) }, 400, 'InvalidParameter', 'color_palette'],
	['color_palette hex without #', { color_palette: [{ hex: 'FF0000', ratio: '50.00%' }, ...palette(['25.00%', '25.00%'])] }, 400, 'InvalidParameter', 'color_palette'],
	['color_palette with enable_sequential', { enable_sequential: true, n: 2, color_palette: palette(['50.00%', '25.00%', '25.00%']) }, 400, 'InvalidParameter', 'color_palette'],
];

describe('every field is checked (seed dialect), nothing is generated or billed', () => {
	test.each(BAD.map(([name, over, status, code, param]) => [name, status, code, param, over] as const))('%s → %i %s (param %s)', async (_name, status, code, param, over) => {
		const res = await post(emu, generation(typeof over === 'function' ? over() : over));
		expectError(res, status, code, param);
		expect(emu.counters()).toMatchObject({ generationRequests: 1, generationsStarted: 0, billedImages: 0, rejected: 1 });
		expect(emu.generations()).toEqual([]);
	});

	test('the image errors name the offending index', async () => {
		const res = await post(emu, generation({ image: [png, png, dataUri(pngImage(100, 300))] }));
		expect(expectError(res, 400, 'InvalidParameter', 'image')).toMatch(/^image\[2\]: .*240 to 8000/);
	});

	test('incomplete files are refused for their missing data, not their headers', async () => {
		const messages: string[] = [];
		for (const image of [dataUri(cut(pngImage(300, 300), 40)), dataUri(shortPng()), dataUri(cut(jpegImage(300, 300), 200), 'image/jpeg'), dataUri(cut(webpImage(300, 300), 200), 'image/webp'), dataUri(cut(bmpImage(300, 300), 900), 'image/bmp')]) {
			messages.push(expectError(await post(emu, generation({ image })), 400, 'InvalidParameter', 'image'));
		}
		expect(messages).toEqual([
			'image[0]: the PNG file is truncated (no complete IEND chunk).',
			`image[0]: the PNG pixel data holds ${299 * 901} bytes where its header needs ${300 * 901}.`,
			'image[0]: the JPEG file is truncated (no end-of-image marker after the scan).',
			'image[0]: the WEBP file is truncated (shorter than its RIFF header says).',
			'image[0]: the BMP file is truncated (fewer pixel rows than its header says).',
		]);
	});

	test('body not an object, malformed JSON, wrong Content-Type', async () => {
		expectError(await post(emu, [generation()]), 400, 'invalid_request_body', null);
		const malformed = await post(emu, undefined, { raw: '{"model":' });
		expectError(malformed, 400, 'invalid_json', null);
		expect(malformed.body.error.type).toBe('invalid_request_error');
		expectError(await post(emu, undefined, { raw: JSON.stringify(generation()), headers: { 'Content-Type': 'text/plain' } }), 400, 'invalid_request_body', null);
		expect(emu.counters().generationsStarted).toBe(0);
	});
});

type Good = [name: string, over: Record<string, unknown> | (() => Record<string, unknown>), expected: Record<string, unknown>];

const GOOD: Good[] = [
	['defaults (seed 002): n 1, 2K, thinking on, no watermark, url', { size: undefined }, { n: 1, size: '2K', width: 2048, height: 2048, thinkingMode: true, thinkingEffective: true, watermark: false, responseFormat: 'url', seedGenerated: true }],
	['prompt of 5000 astral characters', { prompt: '😀'.repeat(5000) }, { mode: 'text-to-image' }],
	['n 4', { n: 4 }, { n: 4 }],
	['enable_sequential without n → 12', { enable_sequential: true }, { n: 12, mode: 'image-set', thinkingEffective: false }],
	['enable_sequential n 12', { enable_sequential: true, n: 12 }, { n: 12 }],
	['4K on Pro text-to-image', { model: PRO, size: '4K' }, { width: 4096, height: 4096 }],
	['Pro 4096x4096 explicit', { model: PRO, size: '4096x4096' }, { width: 4096, height: 4096 }],
	['768x768 and the seed 0', { size: '768x768', seed: 0 }, { width: 768, height: 768, seed: 0, seedGenerated: false }],
	['1536x1024', { size: '1536x1024' }, { width: 1536, height: 1024 }],
	['seed 2147483647', { seed: 2147483647 }, { seed: 2147483647 }],
	['one image as a string (edit; tier keeps its aspect)', { image: dataUri(pngImage(400, 300)) }, { mode: 'edit', width: 1182, height: 887, thinkingEffective: false }],
	['9 images of every format', () => ({ image: [png, dataUri(jpegImage(300, 300), 'image/jpeg'), dataUri(jpegImage(300, 300), 'image/jpg'), dataUri(webpImage(300, 300), 'image/webp'), dataUri(bmpImage(300, 300), 'image/bmp'), `${files.origin}/photo.png`, `${files.origin}/photo.jpg`, png, png] }), { mode: 'edit' }],
	['bbox_list with [] for an image', { image: [png, png], bbox_list: [[], [[10, 10, 100, 100], [120, 20, 200, 90]]] }, { mode: 'edit' }],
	['color_palette summing to 100.00%', { color_palette: palette(['33.33%', '33.33%', '33.34%']) }, { mode: 'text-to-image' }],
	['the standard model id', { model: STANDARD }, { model: STANDARD, requestedModel: STANDARD }],
];

describe('the edges that must pass', () => {
	test.each(GOOD)('%s', async (_name, over, expected) => {
		const res = await post(emu, generation(typeof over === 'function' ? over() : over));
		expect(res.status).toBe(200);
		const [snapshot] = emu.generations();
		expect(snapshot).toMatchObject({ state: 'completed', ...expected });
		expect(res.body.data).toHaveLength(snapshot.n);
	});
});
