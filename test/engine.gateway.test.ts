/**
 * The OpenAI-compatible gateway service through the real n8n engine (filesystem binary mode) against
 * the gateway emulator over HTTP: per operation the exact body the gateway received (seed 002, field for
 * field) and the items that came out; bad input refused with zero requests; Wait/Cancel refused as
 * synchronous; and the faults that cost money — an answer slower than the timeout, a 5xx after the work,
 * a reset mid-answer, a stop — each sent once, with a message and a ledger entry saying images may have
 * been generated and billed.
 */
import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { startGatewayEmulator, type GatewayEmulator } from './emulator-gateway';
import { KEY, dimensions, pngImage, until } from './emulator-gateway/fixtures';
import { errorText } from './fixtures/images';
import { captureEngineLogs } from './fixtures/logCapture';
import { BinaryStore, runNode, type RunResult } from './harness/n8nEngine';

const store = new BinaryStore();
const logs = captureEngineLogs();
let gw: GatewayEmulator;

beforeAll(async () => {
	await store.init();
	gw = await startGatewayEmulator({ timing: { generationMs: 0, perImageMs: 0 } });
});
afterAll(async () => {
	store.cleanup();
	await gw.close();
});
beforeEach(() => gw.reset());

interface Extra {
	credentials?: Record<string, string | number>;
	continueOnFail?: boolean;
	cancelAfterMs?: number;
}

function run(parameters: IDataObject, items: INodeExecutionData[] = [{ json: {} }], extra: Extra = {}): Promise<RunResult> {
	return runNode({
		parameters: { service: 'gateway', ...parameters },
		credentials: { apiKey: KEY, baseUrl: gw.apiUrl, ...extra.credentials },
		credentialType: 'wanGatewayApi',
		items,
		typeVersion: 2,
		continueOnFail: extra.continueOnFail,
		cancelAfterMs: extra.cancelAfterMs,
	});
}

async function succeed(parameters: IDataObject, items?: INodeExecutionData[], extra?: Extra): Promise<INodeExecutionData[]> {
	const result = await run(parameters, items, extra);
	if (result.status !== 'success') throw new Error(`run failed: ${result.error?.message} ${result.error?.description ?? ''}`);
	return result.items;
}

const generationBodies = () => gw.requests().filter((request) => request.kind === 'generation').map((request) => request.body);

async function itemWith(files: Record<string, Buffer>): Promise<INodeExecutionData> {
	const binary: Record<string, IBinaryData> = {};
	for (const [property, bytes] of Object.entries(files)) binary[property] = await store.store(bytes, 'image/png', `${property}.png`);
	return { json: {}, binary };
}

const mug = pngImage(320, 256, [200, 30, 30]);
const logo = pngImage(256, 256, [30, 30, 200]);
const uri = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

/** Each item holds one stored PNG of `size` whose name follows the default template, and no key. */
async function expectImages(items: INodeExecutionData[], count: number, size: { width: number; height: number }) {
	expect(items).toHaveLength(count);
	const taskId = items[0].json.taskId as string;
	expect(taskId).toMatch(/^gw-/);
	for (const [position, item] of items.entries()) {
		expect(item.json).toMatchObject({ taskId, status: 'SUCCEEDED', imageIndex: position + 1, size: `${size.width}*${size.height}` });
		const binary = item.binary!.data;
		expect(binary).toMatchObject({ mimeType: 'image/png', fileName: `${taskId}-${position + 1}.png` });
		expect(binary.id).toMatch(/^filesystem/);
		expect(dimensions(await store.read(binary))).toEqual({ format: 'png', ...size });
		expect(JSON.stringify(item)).not.toContain(KEY);
	}
}

describe('each operation: the body the gateway received and the items that came out', () => {
	test('Generate Image (Pro): seed fields, revised_prompt → actualPrompt, the URL downloaded', async () => {
		const items = await succeed({
			operation: 'generateImage',
			model: 'wan2.7-image-pro',
			prompt: 'a flower shop at dawn',
			size: '1K',
			numberOfImages: 2,
			modelOptions: { seed: '11', watermark: true, thinkingMode: false },
		});
		expect(generationBodies()).toEqual([
			{ model: 'wan2.7-image-pro', prompt: 'a flower shop at dawn', n: 2, size: '1K', thinking_mode: false, watermark: true, seed: 11, response_format: 'url' },
		]);
		await expectImages(items, 2, { width: 1024, height: 1024 });
		expect(items[0].json).toMatchObject({ model: 'wan2.7-image-pro', actualPrompt: 'a flower shop at dawn', seed: 11 });
		expect(items.map((item) => item.json.url)).toEqual(gw.generations()[0].resultIds.map((id) => expect.stringContaining(`/results/${id}.png`)));
		expect(gw.counters()).toMatchObject({ generationRequests: 1, billedImages: 2, downloads: 2 });
	});

	test('Edit Image: one binary image as the `image` string, a custom size as WxH', async () => {
		const items = await succeed(
			{ operation: 'editImage', model: 'wan2.7-image', prompt: 'make the mug blue', inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '1024*768' },
			[await itemWith({ data: mug })],
		);
		expect(generationBodies()).toEqual([{ model: 'wan2.7-image', prompt: 'make the mug blue', image: uri(mug), n: 1, size: '1024x768', response_format: 'url' }]);
		await expectImages(items, 1, { width: 1024, height: 768 });
	});

	test('Fuse Images: two images as the `image` list, in order', async () => {
		const items = await succeed(
			{
				operation: 'fuseImages',
				model: 'wan2.7-image',
				prompt: 'the logo of image 2 on the mug of image 1',
				imagesFrom: 'list',
				images: { image: [{ inputType: 'binary', binaryPropertyName: 'mug' }, { inputType: 'binary', binaryPropertyName: 'logo' }] },
				size: '1K',
			},
			[await itemWith({ mug, logo })],
		);
		expect(generationBodies()).toEqual([
			{ model: 'wan2.7-image', prompt: 'the logo of image 2 on the mug of image 1', image: [uri(mug), uri(logo)], n: 1, size: '1K', response_format: 'url' },
		]);
		expect(items).toHaveLength(1);
		expect(gw.generations()[0].inputImages.map((input) => input.width)).toEqual([320, 256]);
	});

	test('Generate Image Set: enable_sequential with the node\'s n', async () => {
		const items = await succeed({ operation: 'generateImageSet', model: 'wan2.7-image', prompt: 'a 3-panel comic', numberOfImages: 3, size: '1K' });
		expect(generationBodies()).toEqual([{ model: 'wan2.7-image', prompt: 'a 3-panel comic', n: 3, size: '1K', enable_sequential: true, response_format: 'url' }]);
		await expectImages(items, 3, { width: 1024, height: 1024 });
	});

	test('b64_json: the images are stored from the answer (no download), even with Output URL', async () => {
		const items = await succeed(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt: 'a red bicycle', size: '1K', numberOfImages: 2, outputFormat: 'url' },
			undefined,
			{ credentials: { responseFormat: 'b64_json' } },
		);
		expect(generationBodies()[0]).toMatchObject({ response_format: 'b64_json' });
		await expectImages(items, 2, { width: 1024, height: 1024 });
		for (const item of items) expect(item.json).not.toHaveProperty('url');
		expect(gw.counters()).toMatchObject({ billedImages: 2, downloads: 0 });
	});

	test('the images dialect with a renamed model: `images` list, W*H, the gateway\'s own model ID', async () => {
		const other = await startGatewayEmulator({ dialect: 'images', timing: { generationMs: 0, perImageMs: 0 }, modelAliases: { 'Wan-AI/Wan2.7-Image': 'wan2.7-image' } });
		try {
			const result = await runNode({
				parameters: { service: 'gateway', operation: 'editImage', model: 'wan2.7-image', prompt: 'p', inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '1024*768' },
				credentials: { apiKey: KEY, baseUrl: other.apiUrl, imageField: 'images', sizeStyle: 'W*H', modelIdImage: 'Wan-AI/Wan2.7-Image' },
				credentialType: 'wanGatewayApi',
				items: [await itemWith({ data: mug })],
				typeVersion: 2,
			});
			expect(result.status).toBe('success');
			expect(other.requests().find((request) => request.kind === 'generation')!.body).toEqual({
				model: 'Wan-AI/Wan2.7-Image',
				prompt: 'p',
				images: [uri(mug)],
				n: 1,
				size: '1024*768',
				response_format: 'url',
			});
		} finally {
			await other.close();
		}
	});
});

describe('run modes', () => {
	test('Validate Only shows the exact body and route, and sends nothing', async () => {
		const items = await succeed(
			{ operation: 'editImage', model: 'wan2.7-image-pro', prompt: 'p', inputType: 'binary', binaryPropertyName: 'data', size: '2K', runMode: 'validate' },
			[await itemWith({ data: mug })],
		);
		expect(items[0].json).toMatchObject({
			valid: true,
			route: '/images/generations',
			request: { model: 'wan2.7-image-pro', prompt: 'p', image: `data:image/png;base64,<${mug.length} bytes>`, n: 1, size: '2K', response_format: 'url' },
		});
		expect(gw.counters().requests).toBe(0);
	});

	test('Submit Only outputs the finished images: a gateway keeps nothing to collect later', async () => {
		const items = await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', runMode: 'submit' });
		await expectImages(items, 1, { width: 1024, height: 1024 });
	});
});

describe('not offered through a gateway', () => {
	test('a colour palette (not in seed 002) is not offered: n8n drops the hidden option, none is sent', async () => {
		const palette = { color: [{ hex: '#FF0000', ratio: 50 }, { hex: '#00FF00', ratio: 25 }, { hex: '#0000FF', ratio: 25 }] };
		await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', modelOptions: { colorPalette: palette } });
		expect(generationBodies()).toEqual([{ model: 'wan2.7-image', prompt: 'p', n: 1, size: '1K', response_format: 'url' }]);
	});
});

describe('refused before anything is sent (zero requests)', () => {
	test.each<[string, IDataObject, RegExp]>([
		['4K on the standard model', { operation: 'generateImage', model: 'wan2.7-image', size: '4K' }, /Size.*4K/],
		['4K in an image set (Pro)', { operation: 'generateImageSet', model: 'wan2.7-image-pro', size: '4K' }, /Size.*4K/],
		['a prompt over 5000 characters', { operation: 'generateImage', model: 'wan2.7-image', prompt: 'x'.repeat(5001) }, /Prompt.*5000/],
		['5 images without a set', { operation: 'generateImage', model: 'wan2.7-image', numberOfImages: 5 }, /Number of Images.*1.*4/],
		['13 images in a set', { operation: 'generateImageSet', model: 'wan2.7-image', numberOfImages: 13 }, /12/],
		['a model the gateway does not serve', { operation: 'generateImage', model: 'wan2.6-image' }, /wan2.7-image-pro, wan2.7-image/],
	])('%s', async (_name, parameters, message) => {
		const result = await run({ prompt: 'a teapot', ...parameters });
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(/^Item 1: /);
		expect(result.error!.message).toMatch(message);
		expect(gw.counters().requests).toBe(0);
	});

	test('10 images for Fuse Images', async () => {
		const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`img${i}`, mug]));
		const result = await run({ operation: 'fuseImages', model: 'wan2.7-image', prompt: 'p', imagesFrom: 'allBinary' }, [await itemWith(files)]);
		expect(result.error!.message).toMatch(/Item 1: Images: .* 2 to 9 image\(s\) here, got 10/);
		expect(gw.counters().requests).toBe(0);
	});

	test.each([
		['waitForTask', { taskIds: 'gw-1' }, /synchronous.*no task to wait for/],
		['cancelTask', { taskId: 'gw-1' }, /synchronous.*no task to cancel/],
	])('%s: this service is synchronous', async (operation, parameters, message) => {
		const result = await run({ resource: 'task', operation, ...parameters });
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(message);
		expect(gw.counters().requests).toBe(0);
	});
});

describe('faults: sent once, and the user is told images may have been billed', () => {
	/** The run failed with a billed-maybe message, listed the lost request in the ledger, and sent it once. */
	function expectBilledMaybe(result: RunResult) {
		expect(result.status).toBe('error');
		const error = result.error!;
		expect(error.message).toMatch(/images may have been generated and billed/);
		const reference = gw.requests().find((request) => request.kind === 'generation')!.headers['x-client-request-id'];
		expect(reference).toMatch(/^gw-/);
		expect(error.context!.tasks).toEqual([expect.objectContaining({ taskId: reference, item: 1, state: 'unknown' })]);
		expect(error.description).toMatch(new RegExp(`${reference} \\(item 1\\): its answer was lost: images may have been generated and billed`));
		expect(error.description).not.toMatch(/Wait for Task/);
		expect(errorText(error)).not.toContain(KEY);
		expect(gw.counters().generationRequests).toBe(1);
	}

	test('an answer slower than the Timeout', async () => {
		gw.setTiming({ generationMs: 600_000 });
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'slow', options: { timeoutSeconds: 1 } });
		expectBilledMaybe(result);
		expect(result.error!.message).toMatch(/Timeout|did not complete/);
		await until(() => gw.generations()[0]?.clientGone === true);
		gw.completePending();
		await gw.idle();
		expect(gw.counters()).toMatchObject({ generationRequests: 1, billedImages: 1, answersLost: 1 });
	});

	test('a 5xx after the work was done', async () => {
		gw.injectFault({ action: { type: 'error-after-work', status: 503, code: 'ModelUnavailable', message: 'busy' } });
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K' });
		expectBilledMaybe(result);
		expect(result.error!.message).toMatch(/ModelUnavailable: busy/);
		expect(gw.counters()).toMatchObject({ billedImages: 1, answersLost: 1 });
	});

	test('a reset mid-answer (b64_json)', async () => {
		gw.injectFault({ action: { type: 'reset-mid-answer', fraction: 0.5 } });
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K' }, undefined, { credentials: { responseFormat: 'b64_json' } });
		expectBilledMaybe(result);
		expect(gw.counters()).toMatchObject({ billedImages: 1, answersLost: 1 });
	});

	test('a stop during the work: the request is not re-sent, and the log names it as maybe billed', async () => {
		gw.setTiming({ generationMs: 600_000 });
		logs.clear();
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p' }, undefined, { cancelAfterMs: 300 });
		expect(result.status).toBe('canceled');
		expect(gw.counters().generationRequests).toBe(1);
		// n8n keeps no data of a stopped run: the node's log line is where the ledger shows.
		const reference = gw.requests().find((request) => request.kind === 'generation')!.headers['x-client-request-id'];
		// The run reports "canceled" at once; the node finishes its own handling of the stop just after.
		const ledgerLine = new RegExp(`execution stopped;.*${reference} \\(item 1\\): its answer was lost: images may have been generated and billed`);
		await until(() => logs.lines.some((line) => ledgerLine.test(line)));
		gw.completePending();
		await gw.idle();
		expect(gw.counters()).toMatchObject({ generationRequests: 1, billedImages: 1 });
	});

	test('with Continue On Fail the error item carries the ledger, and the next item still runs', async () => {
		gw.injectFault({ action: { type: 'error-after-work', status: 500 } });
		const items = await succeed(
			{ operation: 'generateImage', model: 'wan2.7-image', prompt: '={{ $json.p }}', size: '1K', options: { concurrency: 1 } },
			[{ json: { p: 'first' } }, { json: { p: 'second' } }],
			{ continueOnFail: true },
		);
		expect(items).toHaveLength(2);
		expect(items[0].json.error).toMatch(/images may have been generated and billed/);
		expect(items[0].json.tasks).toEqual([
			expect.objectContaining({ item: 1, state: 'unknown' }),
			expect.objectContaining({ item: 2, state: 'emitted' }),
		]);
		expect(items[1].json).toMatchObject({ status: 'SUCCEEDED', prompt: 'second' });
		expect(gw.counters()).toMatchObject({ generationRequests: 2, billedImages: 2 });
	});
});

describe('result downloads: a gateway keeps nothing to collect later, so no stored image is thrown away', () => {
	test('a download that fails twice is tried again and stored', async () => {
		gw.injectFault({ match: { kind: 'result' }, times: 2, action: { type: 'html' } });
		const items = await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K' });
		await expectImages(items, 1, { width: 1024, height: 1024 });
		expect(gw.counters()).toMatchObject({ billedImages: 1, downloads: 3 });
	});

	test('one image that never downloads is reported with its URL; the other stays stored', async () => {
		// Two images, three tries each: five bad answers leave exactly one image without a good download.
		gw.injectFault({ match: { kind: 'result' }, times: 5, action: { type: 'html' } });
		const items = await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', numberOfImages: 2 });
		const urls = gw.generations()[0].resultIds.map((id) => expect.stringContaining(`/results/${id}.png`));
		expect(items).toHaveLength(2);
		const stored = items.filter((item) => item.binary);
		const failed = items.filter((item) => !item.binary);
		expect(stored).toHaveLength(1);
		expect(dimensions(await store.read(stored[0].binary!.data))).toEqual({ format: 'png', width: 1024, height: 1024 });
		expect(failed[0].json).toMatchObject({
			code: 'DownloadFailed',
			error: expect.stringMatching(/Image \d failed: DownloadFailed downloading it failed after 3 tries \(the download is not an image/),
			url: urls[Number(failed[0].json.imageIndex) - 1],
		});
		expect(items.map((item) => item.json.imageIndex)).toEqual([1, 2]);
		expect(gw.counters()).toMatchObject({ generationRequests: 1, billedImages: 2, downloads: 6 });
	});

	test('all images in one item (Output Items: one per task): the failed one is listed in failedImages with its URL', async () => {
		gw.injectFault({ match: { kind: 'result' }, times: 5, action: { type: 'html' } });
		const [item] = await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', numberOfImages: 2, outputItems: 'perTask' });
		expect(item.json).toMatchObject({ imageCount: 1, failedCount: 1 });
		expect(item.json.failedImages).toEqual([expect.objectContaining({ code: 'DownloadFailed', url: expect.stringContaining('/results/') })]);
		expect(Object.keys(item.binary!)).toEqual(['data']);
	});

	test('when no image could be stored the item fails, and the ledger lists every result URL', async () => {
		gw.injectFault({ match: { kind: 'result' }, times: 6, action: { type: 'html' } });
		const result = await run({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', numberOfImages: 2 });
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(/none of its images could be stored/);
		const [entry] = result.error!.context!.tasks as IDataObject[];
		expect(entry).toMatchObject({ item: 1, state: 'uncollected' });
		for (const id of gw.generations()[0].resultIds) expect(entry.detail).toContain(`/results/${id}.png`);
		expect(gw.counters()).toMatchObject({ generationRequests: 1, downloads: 6 });
	});

	test('b64_json: an inline entry that is not an image is a failed image; the good ones are stored', async () => {
		const good = pngImage(256, 256, [10, 200, 10]).toString('base64');
		const body = JSON.stringify({ created: 1, data: [{ b64_json: good }, { b64_json: Buffer.from('<html>proxy error</html>').toString('base64') }, { b64_json: good }] });
		gw.injectFault({ action: { type: 'http', status: 200, contentType: 'application/json', body } });
		const items = await succeed({ operation: 'generateImage', model: 'wan2.7-image', prompt: 'p', size: '1K', numberOfImages: 3 }, undefined, {
			credentials: { responseFormat: 'b64_json' },
		});
		expect(items.map((item) => [item.json.imageIndex, Boolean(item.binary)])).toEqual([
			[1, true],
			[2, false],
			[3, true],
		]);
		expect(items[1].json).toMatchObject({ code: 'StoreFailed', error: expect.stringMatching(/not an image.*keeps no copy/) });
		expect(items[1].json).not.toHaveProperty('url');
	});
});
