/**
 * Emulator: result pictures show what was sent — input thumbnails in request order with their numbers,
 * region boxes where they were placed, and a text band with model, size, seed, image index and the
 * start of the prompt. Everything is read back from the decoded PNG pixels.
 */
import { PNG } from 'pngjs';

import { Canvas, type Rect, type Rgb } from './emulator/canvas';
import {
	bmpImage,
	dataUri,
	expectTask,
	finish,
	i2iBody,
	jpegImage,
	msgBody,
	pngImage,
	serveImages,
	setupEmulator,
	solidJpeg,
	submit,
} from './emulator/fixtures';
import { INPUT_COLORS, resultLayout, type RenderInput, type RenderSpec } from './emulator/overlay';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 1 } });

const RED: Rgb = [220, 20, 20];
const BLUE: Rgb = [20, 40, 220];
const GREY: Rgb = [128, 128, 128];
const solid = (color: Rgb, width: number, height: number): string => dataUri(pngImage(width, height, { fill: color }), 'image/png');

interface Picture {
	width: number;
	height: number;
	bytes: Buffer;
	/** RGB at (x, y). */
	at(x: number, y: number): Rgb;
}

/** Runs a task to SUCCEEDED and downloads its images. */
async function pictures(body: Record<string, unknown>): Promise<Picture[]> {
	const done = await finish(emu, expectTask(await submit(emu, body)));
	expect(done.body.output.task_status).toBe('SUCCEEDED');
	const out = done.body.output;
	const urls: string[] = out.results
		? out.results.map((r: { url: string }) => r.url)
		: out.choices.flatMap((c: { message: { content: Array<{ image?: string }> } }) => c.message.content.flatMap((i) => (i.image ? [i.image] : [])));
	emu.advanceClock(2000); // keep the next submission clear of the limits
	return Promise.all(
		urls.map(async (url) => {
			const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
			const png = PNG.sync.read(bytes);
			const at = (x: number, y: number): Rgb => {
				const p = (y * png.width + x) * 4;
				return [png.data[p], png.data[p + 1], png.data[p + 2]];
			};
			return { width: png.width, height: png.height, bytes, at };
		}),
	);
}

/** The layout the emulator promises for a picture (same inputs, same text lines). */
function layoutOf(pic: Picture, inputs: Array<[string, number, number]>, extra: Partial<RenderSpec> = {}) {
	const renderInputs: RenderInput[] = inputs.map(([format, width, height]) => ({ format: format as RenderInput['format'], width, height, readBytes: () => Buffer.alloc(0) }));
	return resultLayout({ width: pic.width, height: pic.height, seed: 1, prompt: 'x', index: 0, imageCount: 1, model: 'm', inputs: renderInputs, watermark: false, ...extra });
}

const centre = (r: Rect): [number, number] => [Math.floor(r.x + r.width / 2), Math.floor(r.y + r.height / 2)];

/** x of the first pixel of `color` along row y, or -1. */
function firstX(pic: Picture, y: number, color: Rgb): number {
	for (let x = 0; x < pic.width; x++) if (pic.at(x, y).every((c, i) => c === color[i])) return x;
	return -1;
}

/** Which pixels of `rect` are text (bright on the dark band). */
function textMask(pic: Picture, rect: Rect): string {
	let mask = '';
	for (let y = rect.y; y < rect.y + rect.height; y++) {
		for (let x = rect.x; x < rect.x + rect.width; x++) mask += Math.max(...pic.at(x, y)) >= 150 ? '#' : '.';
	}
	return mask;
}

/** The mask `text` would leave when drawn at the line's place (same font), for comparison. */
function expectedMask(text: string, rect: Rect, line: { x: number; y: number }, scale: number): string {
	const canvas = new Canvas(rect.x + rect.width, rect.y + rect.height);
	canvas.fill({ x: 0, y: 0, width: canvas.width, height: canvas.height }, [0, 0, 0]);
	canvas.text(text, line.x, line.y, scale, [255, 255, 255]);
	let mask = '';
	for (let y = rect.y; y < rect.y + rect.height; y++) {
		for (let x = rect.x; x < rect.x + rect.width; x++) mask += canvas.data[canvas.offset(x, y)] ? '#' : '.';
	}
	return mask;
}

/** The area one text line occupies across the band. */
function lineRect(pic: Picture, line: { y: number }, scale: number): Rect {
	return { x: 0, y: line.y, width: pic.width, height: 7 * scale };
}

test('thumbnails of the inputs appear in request order, numbered, on both protocols', async () => {
	const [forward] = await pictures(msgBody('wan2.7-image', 'fuse', [solid(RED, 640, 480), solid(BLUE, 480, 640)], { size: '1K', seed: 5 }));
	const [backward] = await pictures(msgBody('wan2.7-image', 'fuse', [solid(BLUE, 480, 640), solid(RED, 640, 480)], { size: '1K', seed: 5 }));

	const layout = layoutOf(forward, [['png', 640, 480], ['png', 480, 640]]);
	expect(layout.thumbnails).toHaveLength(2);
	expect(forward.at(...centre(layout.thumbnails[0]))).toEqual(RED);
	expect(forward.at(...centre(layout.thumbnails[1]))).toEqual(BLUE);
	// Each thumbnail's number sits on a tab above it, black on that input's colour.
	layout.badges.forEach((tab, i) => {
		expect(forward.at(tab.x, tab.y)).toEqual(INPUT_COLORS[i]);
		expect(forward.at(tab.x + tab.width - 1, tab.y + tab.height - 1)).toEqual(INPUT_COLORS[i]);
		expect(tab.y + tab.height).toBeLessThanOrEqual(layout.thumbnails[i].y);
	});
	const digitMask = (pic: Picture, tab: Rect) => {
		let mask = '';
		for (let y = tab.y; y < tab.y + tab.height; y++) for (let x = tab.x; x < tab.x + tab.width; x++) mask += pic.at(x, y).every((c) => c === 0) ? '#' : '.';
		return mask;
	};
	layout.badges.forEach((tab, i) => {
		const s = layout.badgeScale;
		expect(digitMask(forward, tab)).toBe(expectedMask(String(i + 1), tab, { x: tab.x + s, y: tab.y + s }, s));
	});

	// Without the layout: along the strip's middle row the first input comes first.
	const row = centre(layout.thumbnails[0])[1];
	expect(firstX(forward, row, RED)).toBeGreaterThan(0);
	expect(firstX(forward, row, RED)).toBeLessThan(firstX(forward, row, BLUE));
	const backRow = centre(layoutOf(backward, [['png', 480, 640], ['png', 640, 480]]).thumbnails[1])[1];
	expect(firstX(backward, backRow, BLUE)).toBeGreaterThan(0);
	expect(firstX(backward, backRow, BLUE)).toBeLessThan(firstX(backward, backRow, RED));

	// 2.5 sends its images in input.images: same picture of the order.
	const [synthesis] = await pictures(i2iBody('fuse', [solid(BLUE, 800, 800), solid(RED, 800, 800), solid(GREY, 800, 800)], { size: '1024*1024', n: 1, seed: 5 }));
	const three = layoutOf(synthesis, [['png', 800, 800], ['png', 800, 800], ['png', 800, 800]]);
	expect(three.thumbnails.map((r) => synthesis.at(...centre(r)))).toEqual([BLUE, RED, GREY]);
});

test('BMP and baseline JPEG inputs show as thumbnails; inputs it cannot decode show a placeholder with format and size', async () => {
	const headerOnly = dataUri(jpegImage(1200, 600), 'image/jpeg'); // headers only: not decodable
	const images = [dataUri(bmpImage(500, 500), 'image/bmp'), dataUri(solidJpeg(640, 480, RED), 'image/jpeg'), headerOnly];
	const [pic] = await pictures(msgBody('wan2.7-image', 'three inputs', images, { size: '1K', seed: 2 }));
	const layout = layoutOf(pic, [['bmp', 500, 500], ['jpeg', 640, 480], ['jpeg', 1200, 600]]);
	expect(pic.at(...centre(layout.thumbnails[0]))).toEqual([64, 64, 64]); // the fixture BMP is grey 0x40
	expect(pic.at(...centre(layout.thumbnails[1]))).toEqual(RED); // each 8×8 block's average colour
	const placeholder = layout.thumbnails[2];
	expect(pic.at(placeholder.x + placeholder.width - 2, placeholder.y + placeholder.height - 2)).toEqual([48, 48, 56]);
	// Its label ("JPEG" / "1200*600") is white text; nothing else on the picture is that white.
	let white = 0;
	for (let y = placeholder.y; y < placeholder.y + placeholder.height; y++) {
		for (let x = placeholder.x; x < placeholder.x + placeholder.width; x++) if (pic.at(x, y).every((c) => c === 245)) white++;
	}
	expect(white).toBeGreaterThan(100);
});

test('region boxes: outlined in the thumbnail and at the mapped place in the output, nowhere else', async () => {
	const input = solid(GREY, 1000, 500);
	const body = (boxes: number[][][] | undefined) =>
		msgBody('wan2.7-image', 'replace the object in the box', [input], { size: '1K', seed: 9, ...(boxes ? { bbox_list: boxes } : {}) });
	const [boxed] = await pictures(body([[[200, 100, 600, 400]]]));
	const [plain] = await pictures(body(undefined));
	expect([boxed.width, boxed.height]).toEqual([plain.width, plain.height]);

	// Output frame: the box scaled from 1000×500 to the output size.
	const sx = boxed.width / 1000;
	const sy = boxed.height / 500;
	const left = Math.round(200 * sx);
	const midY = Math.round(250 * sy);
	const midX = Math.round(400 * sx);
	expect(boxed.at(left + 1, midY)).toEqual(INPUT_COLORS[0]);
	expect(boxed.at(Math.round(600 * sx) - 2, midY)).toEqual(INPUT_COLORS[0]);
	expect(boxed.at(midX, Math.round(100 * sy) + 1)).not.toEqual(plain.at(midX, Math.round(100 * sy) + 1)); // top edge (under the band or not)
	expect(boxed.at(midX, midY)).toEqual(plain.at(midX, midY)); // inside: untouched
	expect(boxed.at(left - 10, midY)).toEqual(plain.at(left - 10, midY)); // outside: untouched

	// Thumbnail: the same box at the same relative place.
	const thumb = layoutOf(boxed, [['png', 1000, 500]]).thumbnails[0];
	const tLeft = thumb.x + Math.round(200 * (thumb.width / 1000));
	const tMidY = thumb.y + Math.round(250 * (thumb.height / 500));
	expect(boxed.at(tLeft, tMidY)).toEqual(INPUT_COLORS[0]);
	expect(plain.at(tLeft, tMidY)).toEqual(GREY);
});

test('the text band reads model, size, seed and the start of the prompt; a different prompt changes it', async () => {
	const prompt = 'Place the mug on a white marble kitchen counter in warm morning light; keep the mug unchanged';
	const [a] = await pictures(msgBody('wan2.7-image', prompt, [], { size: '1K', seed: 77 }));
	const [b] = await pictures(msgBody('wan2.7-image', 'A flat-lay of summer accessories on sand', [], { size: '1K', seed: 77 }));
	const layout = layoutOf(a, []);
	const scale = layout.textScale;
	const [header, firstPrompt] = layout.lines;

	// The band is darker than the picture just below it.
	const luminance = (pic: Picture, y: number) => pic.at(a.width - 3, y).reduce((s, c) => s + c, 0);
	expect(luminance(a, layout.band.height - 2)).toBeLessThan(luminance(a, layout.band.height + 2));

	const headerRect = lineRect(a, header, scale);
	expect(textMask(a, headerRect)).toBe(expectedMask(`wan2.7-image  ${a.width}*${a.height}  seed 77`, headerRect, header, scale));
	expect(textMask(b, headerRect)).toBe(textMask(a, headerRect)); // same model, size and seed

	const promptRect = lineRect(a, firstPrompt, scale);
	expect(textMask(a, promptRect)).toBe(expectedMask(`"Place the mug on a white marble kitchen`, promptRect, firstPrompt, scale));
	expect(textMask(b, promptRect)).not.toBe(textMask(a, promptRect));
});

test('several images per task: each says "image i of n"', async () => {
	const pics = await pictures(msgBody('wan2.7-image', 'four seasonal banners', [], { size: '1K', seed: 3, enable_sequential: true, n: 2 }));
	expect(pics).toHaveLength(2);
	pics.forEach((pic, i) => {
		const layout = layoutOf(pic, [], { imageCount: 2, index: i });
		const line = layout.lines[1];
		const rect = lineRect(pic, line, layout.textScale);
		expect(textMask(pic, rect)).toBe(expectedMask(`image ${i + 1} of 2`, rect, line, layout.textScale));
	});
});

test('identical requests give identical bytes (inputs and boxes included); another input order does not', async () => {
	const body = (images: string[]) =>
		msgBody('wan2.7-image', 'fuse', images, { size: '1K', seed: 21, bbox_list: [[[10, 10, 300, 200]], []] });
	const [a] = await pictures(body([solid(RED, 640, 480), solid(BLUE, 640, 480)]));
	const [b] = await pictures(body([solid(RED, 640, 480), solid(BLUE, 640, 480)]));
	const [c] = await pictures(body([solid(BLUE, 640, 480), solid(RED, 640, 480)]));
	expect(a.bytes.equals(b.bytes)).toBe(true);
	expect(a.bytes.equals(c.bytes)).toBe(false);
});

test('URL inputs are shown from the bytes the emulator downloaded', async () => {
	const server = await serveImages({ '/red.png': pngImage(600, 600, { fill: RED }) });
	try {
		const [pic] = await pictures(msgBody('wan2.7-image', 'from a URL', [`${server.url}/red.png`, solid(BLUE, 600, 600)], { size: '1K', seed: 4 }));
		const layout = layoutOf(pic, [['png', 600, 600], ['png', 600, 600]]);
		expect(layout.thumbnails.map((r) => pic.at(...centre(r)))).toEqual([RED, BLUE]);
	} finally {
		await server.close();
	}
});
