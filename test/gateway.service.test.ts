/**
 * The gateway service (services/gateway/) against the gateway emulator over real HTTP: request bodies
 * field for field in both dialects, URL and b64_json answers, error answers, and the money rules — a
 * generation is never sent twice once its body went out, and every lost answer says that images may
 * have been generated and billed. No timing assertions: long work is ended with completePending().
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { modelCatalog, type ImageOperation, type ModelId } from '../nodes/AlibabaWan/catalog/modelCatalog';
import type { ImageTaskParameters } from '../nodes/AlibabaWan/catalog/taskParameters';
import type { PreparedImage } from '../nodes/AlibabaWan/images/imageSources';
import { bufferPayload } from '../nodes/AlibabaWan/request/streamingJsonBody';
import { gatewayService } from '../nodes/AlibabaWan/services/gateway';
import type { WanSession } from '../nodes/AlibabaWan/services';
import type { TaskResult } from '../nodes/AlibabaWan/tasks/taskResults';
import { ApiError } from '../nodes/AlibabaWan/transport';
import { startGatewayEmulator, type GatewayEmulator, type GatewayEmulatorOptions } from './emulator-gateway';
import { dimensions, KEY, pngImage, setupGateway, until } from './emulator-gateway/fixtures';
import { caught } from './fixtures/transport';

const emu = setupGateway();

function session(gw: GatewayEmulator, over: Record<string, unknown> = {}): WanSession {
	return gatewayService.connect({ baseUrl: gw.apiUrl, apiKey: KEY, ...over });
}

function image(number: number, bytes: Buffer, boxes: number[][] = []): PreparedImage {
	return { number, source: `image ${number}`, value: bufferPayload('image/png', bytes), flattened: false, boxes };
}

async function generate(
	s: WanSession,
	operation: ImageOperation,
	parameters: ImageTaskParameters,
	images: PreparedImage[] = [],
	model: ModelId = 'wan2.7-image',
	opts: Parameters<WanSession['submitTask']>[1] = {},
) {
	const request = s.buildRequest(modelCatalog[model], operation, parameters, images, {});
	return await s.submitTask(request, { retry: { baseDelayMs: 5, maxDelayMs: 10 }, ...opts });
}

async function bytesOf(s: WanSession, url: string): Promise<{ bytes: Buffer; contentType?: string; contentLength?: number }> {
	const downloaded = await s.downloadResult(url, {});
	const chunks: Buffer[] = [];
	for await (const chunk of downloaded.body) chunks.push(Buffer.from(chunk as Uint8Array));
	downloaded.stored?.();
	return { bytes: Buffer.concat(chunks), contentType: downloaded.contentType, contentLength: downloaded.contentLength };
}

const generationBodies = (gw: GatewayEmulator) => gw.requests().filter((request) => request.kind === 'generation').map((request) => request.body);

const red = pngImage(320, 256, [200, 30, 30]);
const blue = pngImage(256, 256, [30, 30, 200]);
const redUri = `data:image/png;base64,${red.toString('base64')}`;
const blueUri = `data:image/png;base64,${blue.toString('base64')}`;

describe('request bodies match seed 002 field for field', () => {
	test('text-to-image: only the fields set, plus n and response_format; the answer is the finished result', async () => {
		const s = session(emu);
		const submitted = await generate(s, 'generateImage', { prompt: 'a flower shop at dawn', n: 2, size: '1K', seed: 7, watermark: true, thinkingMode: false });
		expect(generationBodies(emu)).toEqual([
			{ model: 'wan2.7-image', prompt: 'a flower shop at dawn', n: 2, size: '1K', thinking_mode: false, watermark: true, seed: 7, response_format: 'url' },
		]);
		expect(submitted.status).toBe('SUCCEEDED');
		expect(submitted.taskId).toMatch(/^gw-[0-9a-f-]{36}$/);
		const result = submitted.result!;
		expect(result).toMatchObject({ taskId: submitted.taskId, status: 'SUCCEEDED', actualPrompt: 'a flower shop at dawn', failedImages: [] });
		expect(result.images.map((entry) => entry.index)).toEqual([1, 2]);
		for (const entry of result.images) {
			expect(entry.inline).toBeUndefined();
			const { bytes } = await bytesOf(s, entry.url);
			expect(dimensions(bytes)).toEqual({ format: 'png', width: 1024, height: 1024 });
		}
		// The node's reference travels as X-Client-Request-Id, so a gateway can trace a lost request.
		expect(emu.requests().find((request) => request.kind === 'generation')!.headers['x-client-request-id']).toBe(submitted.taskId);
		expect(emu.counters()).toMatchObject({ generationRequests: 1, billedImages: 2 });
	});

	test('the same item with nothing optional set sends model, prompt, n and response_format only', async () => {
		await generate(session(emu), 'generateImage', { prompt: 'a teapot', n: 1 }, [], 'wan2.7-image-pro');
		expect(generationBodies(emu)).toEqual([{ model: 'wan2.7-image-pro', prompt: 'a teapot', n: 1, response_format: 'url' }]);
		expect(emu.generations()[0]).toMatchObject({ size: '2K', thinkingMode: true, watermark: false });
	});

	test('seed dialect: one image as a string, several as a list, boxes per image, WxH sizes', async () => {
		const s = session(emu);
		await generate(s, 'editImage', { prompt: 'make it blue', n: 1, size: '1024*768' }, [image(1, red, [[10, 10, 100, 80]])]);
		await generate(s, 'fuseImages', { prompt: 'image 1 on image 2', n: 1, size: '2K' }, [image(1, red), image(2, blue, [[0, 0, 50, 50]])]);
		expect(generationBodies(emu)).toEqual([
			{ model: 'wan2.7-image', prompt: 'make it blue', image: redUri, n: 1, size: '1024x768', response_format: 'url', bbox_list: [[[10, 10, 100, 80]]] },
			{ model: 'wan2.7-image', prompt: 'image 1 on image 2', image: [redUri, blueUri], n: 1, size: '2K', response_format: 'url', bbox_list: [[], [[0, 0, 50, 50]]] },
		]);
		expect(emu.generations().map((g) => g.inputImages.length)).toEqual([1, 2]);
	});

	test('an image set sends enable_sequential and the node\'s n', async () => {
		const s = session(emu);
		const submitted = await generate(s, 'generateImageSet', { prompt: 'a 3-panel comic', n: 3, size: '1K' });
		expect(generationBodies(emu)).toEqual([{ model: 'wan2.7-image', prompt: 'a 3-panel comic', n: 3, size: '1K', enable_sequential: true, response_format: 'url' }]);
		expect(submitted.result!.images).toHaveLength(3);
	});

	test('the credential renames models (gateways rename them)', async () => {
		const gw = await startGatewayEmulator({ timing: { generationMs: 0, perImageMs: 0 }, modelAliases: { 'wan-27-pro': 'wan2.7-image-pro' } });
		try {
			await generate(session(gw, { modelIdImagePro: 'wan-27-pro' }), 'generateImage', { prompt: 'x', n: 1, size: '1K' }, [], 'wan2.7-image-pro');
			expect(gw.generations()[0]).toMatchObject({ requestedModel: 'wan-27-pro', model: 'wan2.7-image-pro' });
		} finally {
			await gw.close();
		}
	});
});

describe('the images dialect (Modelverse, new-api)', () => {
	const options: GatewayEmulatorOptions = { dialect: 'images', timing: { generationMs: 0, perImageMs: 0 } };

	test('images as a list even for one image, and W*H sizes; the seed shape is refused there', async () => {
		const gw = await startGatewayEmulator(options);
		try {
			const s = session(gw, { imageField: 'images', sizeStyle: 'W*H' });
			await generate(s, 'editImage', { prompt: 'make it blue', n: 1, size: '1024*768' }, [image(1, red)]);
			expect(generationBodies(gw)).toEqual([{ model: 'wan2.7-image', prompt: 'make it blue', images: [redUri], n: 1, size: '1024*768', response_format: 'url' }]);
			// The seed's defaults against this gateway: refused before any work, nothing billed.
			const wrong = await caught(generate(session(gw), 'editImage', { prompt: 'p', n: 1 }, [image(1, red)]));
			expect(wrong).toMatchObject({ httpStatus: 400, code: 'unknown_parameter', taskMayExist: false });
			expect(wrong.message).toMatch(/argument supplied: image\b.*takes input images in 'images'/);
			expect(wrong.hint).toMatch(/Image Field and Size Format/);
			expect(gw.counters()).toMatchObject({ generationRequests: 2, billedImages: 1 });
		} finally {
			await gw.close();
		}
	});
});

describe('b64_json answers', () => {
	test('become inline images whose bytes equal the URL answer\'s, streamed once and then dropped', async () => {
		const parameters = { prompt: 'a red bicycle', n: 2, size: '1K', seed: 42 };
		const byUrl = await generate(session(emu), 'generateImage', parameters);
		const s = session(emu, { responseFormat: 'b64_json' });
		const inline = await generate(s, 'generateImage', parameters);
		expect(generationBodies(emu)[1]).toMatchObject({ response_format: 'b64_json' });
		const result = inline.result as TaskResult;
		expect(result.images.map((entry) => entry.inline)).toEqual([true, true]);
		for (const [position, entry] of result.images.entries()) {
			const fromUrl = await bytesOf(s, byUrl.result!.images[position].url);
			const fromAnswer = await bytesOf(s, entry.url);
			expect(fromAnswer.bytes.equals(fromUrl.bytes)).toBe(true);
			expect(fromAnswer).toMatchObject({ contentType: 'image/png', contentLength: fromUrl.bytes.length });
			// Once stored, the session keeps no copy.
			await expect(s.downloadResult(entry.url, {})).rejects.toThrow(/already stored/);
		}
		expect(emu.counters().downloads).toBe(2); // only the URL answer's images were downloaded
	});

	test('the bytes stay held until stored: a store that failed midway can read the whole image again', async () => {
		const s = session(emu, { responseFormat: 'b64_json' });
		const [entry] = (await generate(s, 'generateImage', { prompt: 'p', n: 1, size: '1K' })).result!.images;
		const first = await s.downloadResult(entry.url, {});
		// The store gives up after the first chunk.
		const reader = first.body[Symbol.asyncIterator]();
		await reader.next();
		await reader.return?.();
		const again = await bytesOf(s, entry.url);
		expect(again.bytes.length).toBe(again.contentLength);
		expect(dimensions(again.bytes)).toEqual({ format: 'png', width: 1024, height: 1024 });
		await expect(s.downloadResult(entry.url, {})).rejects.toThrow(/already stored/);
	});
});

describe('a 200 answer with a broken entry keeps the other images', () => {
	test('an entry without url or b64_json and one with broken Base64 become failed images; the good ones stay', async () => {
		const good = pngImage(256, 256, [10, 200, 10]).toString('base64');
		// Base64 that ends one character into a group (4k+1 characters) cannot be decoded whole.
		const unpadded = good.replace(/=+$/, '');
		const broken = unpadded + 'A'.repeat((5 - (unpadded.length % 4)) % 4);
		const body = JSON.stringify({ created: 1, data: [{ b64_json: good }, { url: '', b64_json: '' }, { b64_json: broken }, { b64_json: good }] });
		emu.injectFault({ action: { type: 'http', status: 200, contentType: 'application/json', body } });
		const s = session(emu, { responseFormat: 'b64_json' });
		const result = (await generate(s, 'generateImage', { prompt: 'p', n: 4, size: '1K' })).result!;
		expect(result.images.map((entry) => entry.index)).toEqual([1, 4]);
		expect(result.failedImages).toEqual([
			{ index: 2, code: 'InvalidResponse', message: expect.stringMatching(/image 2 has neither a url nor b64_json.*billed/) },
			{ index: 3, code: 'InvalidResponse', message: expect.stringMatching(/image 3 \(b64_json\) is not valid Base64.*billed/) },
		]);
		for (const entry of result.images) expect(dimensions((await bytesOf(s, entry.url)).bytes)).toEqual({ format: 'png', width: 256, height: 256 });
	});
});

describe('errors: OpenAI envelopes → clear messages, the key never shown', () => {
	test('a wrong key: 401 with the key-check hint, not retried, nothing generated', async () => {
		const wrongKey = 'sk-wrong-0123456789';
		const error = await caught(generate(gatewayService.connect({ baseUrl: emu.apiUrl, apiKey: wrongKey }), 'generateImage', { prompt: 'p', n: 1 }));
		expect(error).toMatchObject({ httpStatus: 401, code: 'invalid_api_key', taskMayExist: false, service: 'Gateway' });
		expect(error.hint).toMatch(/refused the API key/);
		expect(JSON.stringify(error.toJSON()) + error.stack).not.toContain(wrongKey);
		expect(emu.counters()).toMatchObject({ generationRequests: 1, generationsStarted: 0 });
	});

	test('a field the gateway refuses names the field; an unknown model says gateways rename models', async () => {
		const s = session(emu);
		const bad = await caught(generate(s, 'generateImage', { prompt: 'p', n: 1, size: '4K' }));
		expect(bad).toMatchObject({ httpStatus: 400, code: 'InvalidParameter', taskMayExist: false });
		expect(bad.message).toMatch(/size/);
		const renamed = await caught(generate(session(emu, { modelIdImage: 'wan-2.7' }), 'generateImage', { prompt: 'p', n: 1 }));
		expect(renamed).toMatchObject({ httpStatus: 404, code: 'model_not_found' });
		expect(renamed.hint).toMatch(/Gateways rename models/);
		expect(emu.counters()).toMatchObject({ generationRequests: 2, billedImages: 0 });
	});

	test('a proxy\'s HTML 502 on arrival: its text is shown, it is not re-sent, and it may have billed', async () => {
		emu.injectFault({ action: { type: 'http', status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' } });
		const error = await caught(generate(session(emu), 'generateImage', { prompt: 'p', n: 1 }));
		expect(error).toMatchObject({ httpStatus: 502, taskMayExist: true, retryable: false });
		expect(error.message).toMatch(/502 Bad Gateway.*images may have been generated and billed/);
		expect(emu.counters().generationRequests).toBe(1);
	});

	test('the synchronous service has no task to look up or cancel', async () => {
		const s = session(emu);
		await expect(s.getTask('gw-x', {})).rejects.toThrow(/synchronous.*no task to wait for/);
		await expect(s.cancelTask('gw-x', {})).rejects.toThrow(/synchronous.*no task to cancel/);
		expect(s.cancellableStatuses).toEqual([]);
		expect(emu.counters().requests).toBe(0);
	});

	test('a bad credential is refused before anything is sent', () => {
		expect(() => gatewayService.connect({ baseUrl: '', apiKey: KEY })).toThrow(/Base URL is empty/);
		expect(() => gatewayService.connect({ baseUrl: 'ftp://x/v1', apiKey: KEY })).toThrow(/http:\/\/ or https:\/\//);
		expect(() => gatewayService.connect({ baseUrl: 'https://u:p@x/v1', apiKey: KEY })).toThrow(/user name or password/);
		expect(() => gatewayService.connect({ baseUrl: 'https://x/v1', apiKey: KEY, requestTimeoutSeconds: 5 })).toThrow(/30 to 1800 seconds/);
		expect(() => gatewayService.connect({ baseUrl: 'https://x/v1', apiKey: KEY, imageField: 'img' })).toThrow(/Image Field "img"/);
	});
});

describe('never sent twice once the body went out; a lost answer says images may be billed', () => {
	const expectBilledMaybe = (error: ApiError, reference?: string) => {
		expect(error).toMatchObject({ taskMayExist: true, retryable: false });
		expect(error.message).toMatch(/images may have been generated and billed/);
		expect(error.hint).toMatch(/cannot be collected later.*Retry On Fail/);
		if (reference) expect(error.taskId).toBe(reference);
	};

	test('an answer slower than the request timeout', async () => {
		emu.setTiming({ generationMs: 600_000 });
		const s = session(emu, { requestTimeoutSeconds: 30 });
		const pending = caught(generate(s, 'generateImage', { prompt: 'slow', n: 1 }, [], 'wan2.7-image', { timeoutMs: 300 }));
		const error = await pending;
		expect(error.code).toBe('Timeout');
		expectBilledMaybe(error, emu.requests()[0].headers['x-client-request-id']);
		await until(() => emu.generations()[0]?.clientGone === true);
		emu.completePending();
		await emu.idle();
		expect(emu.counters()).toMatchObject({ generationRequests: 1, billedImages: 1, answersLost: 1 });
	});

	test('the item\'s Timeout (its deadline) cuts the request when it is shorter than the credential\'s', async () => {
		emu.setTiming({ generationMs: 600_000 });
		const error = await caught(generate(session(emu), 'generateImage', { prompt: 'slow', n: 1 }, [], 'wan2.7-image', { deadline: Date.now() + 300 }));
		expect(error.code).toBe('Timeout');
		expectBilledMaybe(error);
		emu.completePending();
		await emu.idle();
		expect(emu.counters().generationRequests).toBe(1);
	});

	test('a 5xx after the work was done', async () => {
		emu.injectFault({ action: { type: 'error-after-work', status: 500, code: 'InternalError', message: 'upstream hiccup' } });
		const error = await caught(generate(session(emu), 'generateImage', { prompt: 'p', n: 2, size: '1K' }));
		expect(error).toMatchObject({ httpStatus: 500, code: 'InternalError' });
		expectBilledMaybe(error);
		expect(emu.counters()).toMatchObject({ generationRequests: 1, billedImages: 2, answersLost: 1 });
	});

	test.each([['url'], ['b64_json']])('a reset mid-answer (%s)', async (responseFormat) => {
		emu.injectFault({ action: { type: 'reset-mid-answer', fraction: 0.5 } });
		const error = await caught(generate(session(emu, { responseFormat }), 'generateImage', { prompt: 'p', n: 1, size: '1K' }));
		expectBilledMaybe(error);
		expect(emu.counters()).toMatchObject({ generationRequests: 1, billedImages: 1, answersLost: 1 });
	});

	test('the execution\'s cancel signal ends the wait, and says what it may have cost', async () => {
		emu.setTiming({ generationMs: 600_000 });
		const controller = new AbortController();
		const pending = caught(generate(session(emu), 'generateImage', { prompt: 'p', n: 1 }, [], 'wan2.7-image', { signal: controller.signal }));
		await emu.waitForGenerations(1);
		controller.abort();
		const error = await pending;
		expect(error.code).toBe('Aborted');
		expectBilledMaybe(error);
		emu.completePending();
		await emu.idle();
		expect(emu.counters()).toMatchObject({ generationRequests: 1, billedImages: 1 });
	});

	test('a connection that cannot be made is retried (nothing was sent) and says nothing was billed', async () => {
		const closed = http.createServer();
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const port = (closed.address() as AddressInfo).port;
		await new Promise((resolve) => closed.close(resolve));
		const retries: number[] = [];
		const error = await caught(
			generate(gatewayService.connect({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: KEY }), 'generateImage', { prompt: 'p', n: 1 }, [], 'wan2.7-image', {
				retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
				onRetry: (event) => retries.push(event.attempt),
			}),
		);
		expect(error).toMatchObject({ code: 'ECONNREFUSED', notSent: true, taskMayExist: false });
		expect(error.message).not.toMatch(/billed/);
		expect(retries).toEqual([1, 2]);
	});
});
