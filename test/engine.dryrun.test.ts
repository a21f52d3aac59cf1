/**
 * Validate Only (dry run): every input is checked exactly as for a real run, the output is the request
 * that would be sent, and nothing reaches the service.
 */
import { PNG } from 'pngjs';

import { setupEngine } from './fixtures/engine';

const { emu, store, run } = setupEngine();

function png(width: number, height: number, alpha: boolean): Buffer {
	const image = new PNG({ width, height });
	image.data.fill(200);
	if (alpha) for (let i = 3; i < image.data.length; i += 4) image.data[i] = 100;
	return PNG.sync.write(image, { colorType: alpha ? 6 : 2 });
}

test('a dry run outputs the checked images and the exact request, and sends nothing', async () => {
	const mug = await store.store(png(640, 480, false), 'application/octet-stream', 'mug.bin');
	const logo = await store.store(png(300, 300, true), 'image/png', 'logo.png');
	const result = await run(
		{
			operation: 'fuseImages',
			model: 'wan2.7-image',
			imagesFrom: 'allBinary',
			prompt: 'put the logo from image 2 on the mug in image 1',
			size: '1K',
			runMode: 'validate',
		},
		[{ json: {}, binary: { mug, logo } }],
	);
	expect(result.error).toBeUndefined();
	expect(emu.requests()).toHaveLength(0);
	expect(result.items).toHaveLength(1);
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep assertions on the dry-run JSON
	const json = result.items[0].json as Record<string, any>;
	expect(json).toMatchObject({ valid: true, operation: 'fuseImages', model: 'wan2.7-image', region: 'ap-southeast-1' });
	expect(json.images).toEqual([
		expect.objectContaining({ number: 1, format: 'png', mimeType: 'image/png', width: 640, height: 480, flattened: false }),
		expect.objectContaining({ number: 2, format: 'png', width: 300, height: 300, flattened: true }),
	]);
	expect(json.request.input.messages[0].content).toEqual([
		{ image: expect.stringMatching(/^data:image\/png;base64,<\d+ bytes>$/) },
		{ image: expect.stringMatching(/^data:image\/png;base64,<\d+ bytes>$/) },
		{ text: 'put the logo from image 2 on the mug in image 1' },
	]);
	expect(json.request.parameters).toEqual({ size: '1K', n: 1 });
	expect(json.requestBytes).toBeGreaterThan(4 * Math.ceil(png(640, 480, false).length / 3));
	expect(result.items[0].pairedItem).toEqual({ item: 0 });
});

test('a dry run reports invalid input like a real run', async () => {
	const result = await run({
		operation: 'generateImage',
		model: 'wan2.7-image',
		prompt: 'a mug',
		size: 'custom',
		customSize: '4000*4000',
		runMode: 'validate',
	});
	expect(result.error?.message).toMatch(/^Item 1: Size 4000\*4000 is 16000000 pixels/);
	expect(emu.requests()).toHaveLength(0);
});
