/**
 * What the editor work changed at run time, through the real n8n engine and the emulator: version 2
 * parameters (resource + operation) run; the item's own fields (sku, productName) stay on the output
 * (v2 default) while version 1 keeps its released output; file-name tokens mix with n8n expressions;
 * an untouched Seed sends no seed; each output item carries its own image's size; the service's task
 * times are UTC; two list entries on one binary field are refused before anything is sent; Retry On
 * Fail shows a warning on the output.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { setupEngine } from './fixtures/engine';
import {
	FAST,
	KEY,
	REGION,
	ROUTES,
	jpeg,
	lastQuery,
	onlySubmit,
	png,
	serveImages,
	submits,
	submittedTaskId,
} from './fixtures/images';
import { runNode } from './harness/n8nEngine';

const { emu, run, itemWith } = setupEngine();
const V2 = { typeVersion: 2 };

const product = { sku: 'MUG-001', productName: 'Blue Mug' };
const productItem = () => itemWith({ data: [png(640, 480), 'image/png', 'mug.png'] }, { ...product, taskId: 'stale-id-from-upstream' });
const productPair = () =>
	itemWith({ data: [png(640, 480), 'image/png', 'mug.png'], logo: [png(300, 300, 7), 'image/png', 'logo.png'] }, product);

/** Version 2 Edit Image on wan2.7-image at 768*768 (the emulator's quickest render). */
const editV2 = (extra: IDataObject = {}): IDataObject => ({
	resource: 'image',
	operation: 'editImage',
	model: 'wan2.7-image',
	prompt: 'put the mug on a marble counter',
	inputType: 'binary',
	binaryPropertyName: 'data',
	size: 'custom',
	customSize: '768*768',
	...extra,
});

const sentParameters = () => (onlySubmit(emu, KEY, ROUTES.messages).body as { parameters: IDataObject }).parameters;

describe('version 2 parameters and Include Input Fields', () => {
	test('v2 Edit Image (resource Image) runs and keeps sku and productName on the output; the node\'s taskId wins', async () => {
		const result = await run(editV2(), [await productItem()], V2);
		expect(result.status).toBe('success');
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({ ...product, taskId, status: 'SUCCEEDED', operation: 'editImage' });
		expect(result.items[0].binary?.data).toBeDefined();
	});

	test('v2 with Include Input Fields off outputs only the node\'s fields', async () => {
		const result = await run(editV2({ includeInputFields: false }), [await productItem()], V2);
		expect(result.status).toBe('success');
		expect(result.items[0].json).not.toHaveProperty('sku');
		expect(result.items[0].json).not.toHaveProperty('productName');
	});

	test('v1 (saved workflows) keeps its output without the input fields, and can switch them on', async () => {
		const v1 = { operation: 'editImage', model: 'wan2.7-image', prompt: 'x', inputType: 'binary', binaryPropertyName: 'data', size: 'custom', customSize: '768*768' };
		const plain = await run(v1, [await productItem()]);
		expect(plain.status).toBe('success');
		expect(plain.items[0].json).not.toHaveProperty('sku');
		const kept = await run({ ...v1, includeInputFields: true }, [await productItem()]);
		expect(kept.items[0].json).toMatchObject(product);
	});

	test('v2 Submit Only → Wait for Task (resource Task) carries sku through both steps', async () => {
		const submitted = await run(editV2({ runMode: 'submit' }), [await productItem()], V2);
		expect(submitted.status).toBe('success');
		expect(submitted.items[0].json).toMatchObject({ ...product, status: 'PENDING' });
		const waited = await run({ resource: 'task', operation: 'waitForTask', taskIds: '={{ $json.taskId }}' }, submitted.items, V2);
		expect(waited.status).toBe('success');
		expect(waited.items).toHaveLength(1);
		expect(waited.items[0].json).toMatchObject({ ...product, taskId: submitted.items[0].json.taskId, status: 'SUCCEEDED' });
	});

	test('continue-on-fail error items keep the input fields too, so a failed product can be routed', async () => {
		const result = await run(editV2({ binaryPropertyName: 'missing' }), [await productItem()], { ...V2, continueOnFail: true });
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject(product);
		expect(String(result.items[0].json.error)).toMatch(/^Item 1: /);
	});
});

describe('file-name tokens next to n8n expressions', () => {
	test('={{ $json.sku }}-{item}-{model}-{index}.{ext} names every image after the item and its number', async () => {
		const result = await run(
			editV2({ numberOfImages: 2, options: { fileNameTemplate: '={{ $json.sku }}-{item}-{model}-{index}.{ext}' } }),
			[await productItem()],
			V2,
		);
		expect(result.status).toBe('success');
		expect(result.items.map((item) => item.binary?.data?.fileName)).toEqual([
			'MUG-001-1-wan2.7-image-1.png',
			'MUG-001-1-wan2.7-image-2.png',
		]);
	});

	test('the v2 default names files {taskId}-{index}.{ext}', async () => {
		const result = await run(editV2(), [await productItem()], V2);
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		expect(result.items[0].binary?.data?.fileName).toBe(`${taskId}-1.png`);
	});

	test('the older {{taskId}}-{{index}}.{{ext}} form still works in a fixed (non-expression) field', async () => {
		const result = await run(editV2({ options: { fileNameTemplate: 'shot-{{taskId}}-{{index}}.{{ext}}' } }), [await productItem()], V2);
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		expect(result.items[0].binary?.data?.fileName).toBe(`shot-${taskId}-1.png`);
	});
});

describe('Seed', () => {
	test('the Seed option added but left empty sends no seed (a random one each run)', async () => {
		const result = await run(editV2({ modelOptions: { seed: '' } }), [await productItem()], V2);
		expect(result.status).toBe('success');
		expect(sentParameters()).not.toHaveProperty('seed');
		expect(result.items[0].json).not.toHaveProperty('seed');
	});

	test('a typed seed is sent as a number; 0 is a real seed when typed', async () => {
		await run(editV2({ modelOptions: { seed: '42' } }), [await productItem()], V2);
		expect(sentParameters().seed).toBe(42);
		emu.reset();
		await run(editV2({ modelOptions: { seed: '0' } }), [await productItem()], V2);
		expect(sentParameters().seed).toBe(0);
	});

	test('a seed that is not a whole number is refused naming item and field, before anything is sent', async () => {
		const result = await run(editV2({ modelOptions: { seed: '={{ "lucky" }}' } }), [await productItem()], V2);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/^Item 1: Seed: "lucky" is not a whole number .* leave it empty for a random seed/);
		expect(submits(emu)).toHaveLength(0);
	});
});

describe('duplicate binary fields in the image list', () => {
	const fuse = (fields: string[]): IDataObject => ({
		resource: 'image',
		operation: 'fuseImages',
		model: 'wan2.7-image',
		prompt: 'put the logo from image 2 on the mug in image 1',
		images: { image: fields.map((binaryPropertyName) => ({ inputType: 'binary', binaryPropertyName })) },
		size: 'custom',
		customSize: '768*768',
	});

	test('v2 refuses two entries on the same field, naming both entries and the fix; nothing is sent', async () => {
		const result = await run(fuse(['data', 'data']), [await productPair()], V2);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/^Item 1: Images: entries 1 and 2 both use the binary field "data"/);
		expect(result.error?.message).toContain('its own binary field');
		expect(submits(emu)).toHaveLength(0);
	});

	test('v2 sends two different fields as image 1 and image 2, in entry order', async () => {
		const result = await run(fuse(['logo', 'data']), [await productPair()], V2);
		expect(result.status).toBe('success');
		const task = emu.task(submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages)))!;
		expect(task.inputImages.map((image) => `${image.width}*${image.height}`)).toEqual(['300*300', '640*480']);
	});

	test('v1 keeps sending such lists as it did', async () => {
		const v1 = fuse(['data', 'data']);
		delete v1.resource;
		const result = await run(v1, [await productPair()]);
		expect(result.status).toBe('success');
		expect(emu.task(submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages)))!.inputImages).toHaveLength(2);
	});
});

describe('output sizes and times', () => {
	/**
	 * A pass-through proxy in front of the emulator that points a 2.5 task's result URLs at images of
	 * different sizes (the emulator renders every image of a task at one size, and 2.5 reports none).
	 */
	async function resultRewritingProxy(urls: string[]) {
		const target = new URL(emu.baseUrl(REGION));
		const server = http.createServer(async (req, res) => {
			const chunks: Buffer[] = [];
			for await (const chunk of req) chunks.push(chunk as Buffer);
			const upstream = await fetch(`${target.origin}${req.url}`, {
				method: req.method,
				headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<string, string>,
				body: chunks.length ? Buffer.concat(chunks) : undefined,
			});
			let body = Buffer.from(await upstream.arrayBuffer());
			if (req.method === 'GET' && /\/tasks\/[^/]+$/.test(req.url ?? '')) {
				const json = JSON.parse(body.toString('utf8')) as { output: { results?: Array<{ url?: string }> } };
				json.output.results?.forEach((entry, position) => {
					if (entry.url) entry.url = urls[position];
				});
				body = Buffer.from(JSON.stringify(json));
			}
			res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
			res.end(body);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const { port } = server.address() as AddressInfo;
		return {
			baseUrl: `http://127.0.0.1:${port}${target.pathname}`,
			close: () => new Promise<void>((resolve) => server.close(() => resolve())),
		};
	}

	test.each([
		['one item per image', 'perImage'],
		['all images on one item', 'perTask'],
	])('without a size from the service, %s carries each image\'s own size', async (_label, outputItems) => {
		const images = await serveImages({ '/wide.png': png(800, 600), '/square.jpg': jpeg(640, 640) });
		const proxy = await resultRewritingProxy([`${images.url}/wide.png`, `${images.url}/square.jpg`]);
		try {
			const item = await itemWith({ data: [png(640, 480), 'image/png', 'mug.png'] });
			const result = await runNode({
				parameters: {
					resource: 'image',
					operation: 'editImage',
					model: 'wan2.5-i2i-preview',
					prompt: 'two variants',
					inputType: 'binary',
					binaryPropertyName: 'data',
					numberOfImages: 2,
					outputItems,
					options: FAST,
				},
				credentials: { apiKey: KEY, region: REGION, baseUrl: proxy.baseUrl },
				items: [item],
				typeVersion: 2,
			});
			expect(result.status).toBe('success');
			const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.synthesis));
			expect(lastQuery(emu, taskId).usage).not.toHaveProperty('size');
			if (outputItems === 'perImage') {
				expect(result.items.map((entry: INodeExecutionData) => entry.json.size)).toEqual(['800*600', '640*640']);
			} else {
				expect(result.items).toHaveLength(1);
				expect((result.items[0].json.images as IDataObject[]).map((image) => image.size)).toEqual(['800*600', '640*640']);
				// The images differ, so there is no one size for the whole task.
				expect(result.items[0].json).not.toHaveProperty('size');
			}
		} finally {
			await proxy.close();
			await images.close();
		}
	});

	test('the service\'s task times (UTC+8, no zone) are output as UTC ISO times', async () => {
		const result = await run(editV2(), [await productItem()], V2);
		const taskId = submittedTaskId(onlySubmit(emu, KEY, ROUTES.messages));
		const output = lastQuery(emu, taskId).output as { submit_time: string; end_time: string };
		const utc = (chinaTime: string) => new Date(`${chinaTime.replace(' ', 'T')}+08:00`).toISOString();
		expect(result.items[0].json.timings).toMatchObject({
			serviceSubmitTime: utc(output.submit_time),
			serviceEndTime: utc(output.end_time),
		});
	});
});

describe('Retry On Fail', () => {
	test('with Retry On Fail on, an image operation\'s output carries a warning that retries are billed', async () => {
		const result = await run(editV2(), [await productItem()], { ...V2, retryOnFail: true });
		expect(result.status).toBe('success');
		const hints = result.run.data.resultData.runData['Alibaba Wan'][0].hints ?? [];
		expect(hints.map((hint) => hint.message).join('\n')).toMatch(/Retry On Fail.*new tasks.*billed/);
		expect(hints[0]?.type).toBe('warning');
	});

	test('without it, no such warning', async () => {
		const result = await run(editV2(), [await productItem()], V2);
		expect(result.run.data.resultData.runData['Alibaba Wan'][0].hints ?? []).toHaveLength(0);
	});
});
