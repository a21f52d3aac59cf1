/** Runware emulator: each outputType × outputFormat decoded; pictures show the request (inputs, boxes, cost); quality, ttl expiry, determinism. */
import { PNG } from 'pngjs';

import { INPUT_COLORS, resultLayout, type RenderSpec } from './emulator/overlay';
import { decodePreview } from './emulator/previews';
import { dataUri, download, getResponse, inference, pngImage, post, PRO, setupRunware } from './emulator-runware/fixtures';
import { decodeVp8l } from './emulator-runware/vp8l-decoder';

const emu = setupRunware({ timing: { queueMs: 1000, perImageMs: 1000, syncDelayMs: 0 } });

const SIZE = 768;
const base = { width: SIZE, height: SIZE, seed: 42, positivePrompt: 'a lighthouse at dusk' };
const MIME = { JPG: 'image/jpeg', PNG: 'image/png', WEBP: 'image/webp' } as const;
const EXT = { JPG: 'jpg', PNG: 'png', WEBP: 'webp' } as const;

/** The picture bytes of a one-result sync task, however they are delivered. */
async function picture(over: Record<string, unknown>): Promise<{ bytes: Buffer; item: Record<string, unknown> }> {
	const answer = await post(emu, [inference({ ...base, ...over })]);
	expect(answer.status).toBe(200);
	const item = answer.body.data![0];
	const format = (over.outputFormat as keyof typeof MIME | undefined) ?? 'JPG';
	if (item.imageURL) {
		expect(item.imageURL).toMatch(new RegExp(`\\.${EXT[format]}$`));
		const got = await download(item.imageURL as string);
		expect({ status: got.status, type: got.contentType }).toEqual({ status: 200, type: MIME[format] });
		return { bytes: got.bytes, item };
	}
	if (item.imageBase64Data) return { bytes: Buffer.from(item.imageBase64Data as string, 'base64'), item };
	const prefix = `data:${MIME[format]};base64,`;
	expect((item.imageDataURI as string).startsWith(prefix)).toBe(true);
	return { bytes: Buffer.from((item.imageDataURI as string).slice(prefix.length), 'base64'), item };
}

const rgbOfPng = (bytes: Buffer) => {
	const png = PNG.sync.read(bytes);
	const pixels = Buffer.alloc(png.width * png.height * 3);
	for (let i = 0; i < png.width * png.height; i++) png.data.copy(pixels, i * 3, i * 4, i * 4 + 3);
	return { width: png.width, height: png.height, pixels };
};

describe.each(['URL', 'base64Data', 'dataURI'] as const)('outputType %s', (outputType) => {
	test('exactly one of imageURL / imageBase64Data / imageDataURI', async () => {
		const { item } = await picture({ outputType, outputFormat: 'PNG' });
		const fields = ['imageURL', 'imageBase64Data', 'imageDataURI'].filter((f) => f in item);
		expect(fields).toEqual([{ URL: 'imageURL', base64Data: 'imageBase64Data', dataURI: 'imageDataURI' }[outputType]]);
	});

	test('PNG, WEBP and JPG decode to the same picture (WEBP lossless = PNG pixels; JPG blocks close)', async () => {
		const png = rgbOfPng((await picture({ outputType, outputFormat: 'PNG' })).bytes);
		expect([png.width, png.height]).toEqual([SIZE, SIZE]);

		const webp = decodeVp8l((await picture({ outputType, outputFormat: 'WEBP' })).bytes);
		expect([webp.width, webp.height]).toEqual([SIZE, SIZE]);
		expect(webp.pixels.equals(png.pixels)).toBe(true);

		const jpgBytes = (await picture({ outputType, outputFormat: 'JPG', outputQuality: 95 })).bytes;
		expect(jpgBytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
		const jpg = await decodePreview(jpgBytes, 'jpeg'); // every block's entropy-coded data, DC kept: 1/8 scale
		expect(jpg && [jpg.width, jpg.height]).toEqual([SIZE / 8, SIZE / 8]);
		let worst = 0;
		for (let by = 0; by < SIZE / 8; by++) {
			for (let bx = 0; bx < SIZE / 8; bx++) {
				for (let c = 0; c < 3; c++) {
					let sum = 0;
					for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += png.pixels[((by * 8 + y) * SIZE + bx * 8 + x) * 3 + c];
					worst = Math.max(worst, Math.abs(sum / 64 - jpg!.pixels[(by * (SIZE / 8) + bx) * 3 + c]));
				}
			}
		}
		expect(worst).toBeLessThan(16);
	});
});

test('outputQuality changes the JPG: 20 is smaller than 99', async () => {
	const low = (await picture({ outputFormat: 'JPG', outputQuality: 20 })).bytes;
	const high = (await picture({ outputFormat: 'JPG', outputQuality: 99 })).bytes;
	expect(low.length).toBeLessThan(high.length);
});

test('cost only with includeCost (standard $0.03, Pro $0.075), and drawn top right under the text band', async () => {
	const plain = await picture({ outputFormat: 'PNG' });
	expect(plain.item).not.toHaveProperty('cost');
	const costed = await picture({ outputFormat: 'PNG', includeCost: true });
	expect(costed.item.cost).toBe(0.03);
	expect((await picture({ model: PRO, includeCost: true })).item.cost).toBe(0.075);

	const a = rgbOfPng(plain.bytes).pixels;
	const b = rgbOfPng(costed.bytes).pixels;
	let minX = SIZE;
	let minY = SIZE;
	for (let p = 0; p < SIZE * SIZE; p++) {
		if (a[p * 3] !== b[p * 3] || a[p * 3 + 1] !== b[p * 3 + 1] || a[p * 3 + 2] !== b[p * 3 + 2]) {
			minX = Math.min(minX, p % SIZE);
			minY = Math.min(minY, Math.floor(p / SIZE));
		}
	}
	expect(minX).toBeGreaterThan(SIZE / 2); // only the right side differs
	expect(minY).toBeLessThan(SIZE / 4); // near the top
});

test('NSFWContent only when safety is sent', async () => {
	expect((await picture({})).item).not.toHaveProperty('NSFWContent');
	expect((await picture({ safety: { checkContent: true } })).item.NSFWContent).toBe(false);
});

test('the picture shows the inputs: thumbnail in its colour, edit region outlined in the output frame', async () => {
	const red = pngImage(320, 240, [220, 20, 20]);
	const box = [40, 30, 200, 180];
	const { bytes } = await picture({ outputFormat: 'PNG', inputs: { referenceImages: [dataUri(red)] }, settings: { editRegions: [[box]] } });
	const img = rgbOfPng(bytes);
	const spec: RenderSpec = {
		width: SIZE,
		height: SIZE,
		seed: 42,
		prompt: base.positivePrompt,
		index: 0,
		imageCount: 1,
		model: 'alibaba:wan@2.7-image',
		inputs: [{ format: 'png', width: 320, height: 240, readBytes: () => red }],
		boxes: [[box]],
		watermark: false,
	};
	const layout = resultLayout(spec);
	const at = (x: number, y: number) => [...img.pixels.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3)];
	const thumb = layout.thumbnails[0];
	expect(at(thumb.x + 2, thumb.y + Math.floor(thumb.height / 2))).toEqual([220, 20, 20]);
	const outBox = layout.outputBoxes[0].rect;
	expect(at(outBox.x, outBox.y + Math.floor(outBox.height / 2))).toEqual([...INPUT_COLORS[0]]);
});

test('deterministic: the same request paints the same bytes; another seed other bytes', async () => {
	const one = (await picture({ outputFormat: 'PNG' })).bytes;
	const two = (await picture({ outputFormat: 'PNG' })).bytes;
	const other = (await picture({ outputFormat: 'PNG', seed: 43 })).bytes;
	expect(one.equals(two)).toBe(true);
	expect(one.equals(other)).toBe(false);
});

test('URL lifetime: ttl seconds after the result is done, then 404', async () => {
	const { item } = await picture({ ttl: 60 });
	emu.advanceClock(50_000); // (real time passes too: the download above took some)
	expect((await download(item.imageURL as string)).status).toBe(200);
	emu.advanceClock(10_001);
	expect((await download(item.imageURL as string)).status).toBe(404);
});

test('URL lifetime without ttl: 24 hours (UNCONFIRMED default)', async () => {
	const { item } = await picture({});
	emu.advanceClock(23 * 3600_000);
	expect((await download(item.imageURL as string)).status).toBe(200);
	emu.advanceClock(3600_000 + 1000);
	expect((await download(item.imageURL as string)).status).toBe(404);
});

test('HEAD gives the size without a body; a wrong extension is 404', async () => {
	const { item } = await picture({ outputFormat: 'WEBP' });
	const head = await fetch(item.imageURL as string, { method: 'HEAD' });
	expect(head.status).toBe(200);
	expect(Number(head.headers.get('content-length'))).toBeGreaterThan(SIZE * SIZE * 3);
	expect((await download((item.imageURL as string).replace(/\.webp$/, '.png'))).status).toBe(404);
});

test('async results inline: base64 arrives in getResponse once done', async () => {
	const task = inference({ ...base, deliveryMethod: 'async', outputType: 'base64Data', outputFormat: 'PNG', numberResults: 2 });
	await post(emu, [task]);
	emu.advanceClock(2_000);
	const answer = await post(emu, [getResponse(task.taskUUID)]);
	expect(answer.body.data!.map((d) => d.status)).toEqual(['success', 'processing']);
	expect(rgbOfPng(Buffer.from(answer.body.data![0].imageBase64Data as string, 'base64')).width).toBe(SIZE);
	expect(answer.body.data![1]).not.toHaveProperty('imageBase64Data');
});
