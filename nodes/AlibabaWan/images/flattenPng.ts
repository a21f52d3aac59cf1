import { PNG } from 'pngjs';

export interface RgbColor {
	r: number;
	g: number;
	b: number;
}

/** 8-bit RGBA pixels, row by row from the top-left: what pngjs decodes to, and what decodeBmp returns. */
export interface RgbaImage {
	width: number;
	height: number;
	data: Buffer;
	/** PNG gAMA, kept on re-encoding. */
	gamma?: number;
}

const WHITE: RgbColor = { r: 255, g: 255, b: 255 };

function channel(value: number, name: string): number {
	if (!Number.isInteger(value) || value < 0 || value > 255) {
		throw new Error(`flattenPng: background.${name} must be an integer 0–255, got ${value}`);
	}
	return value;
}

/** Pixels composited between yields to the event loop (~20 ms of work on a slow core). */
const PIXELS_PER_SLICE = 1 << 20;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** pngjs internals reached to listen for errors it emits on streams nobody listens to (pngjs 7.0.0). */
interface PngjsParser {
	_filter?: { on(event: 'error', listener: (error: unknown) => void): unknown };
	on(event: 'metadata', listener: () => void): unknown;
}

/**
 * Decodes a PNG of any colour type, bit depth, palette + tRNS or interlacing to 8-bit RGBA, asynchronously.
 *
 * Every decoder error settles the promise. pngjs's async parser emits some errors on its internal row
 * filter, which has no listener: image data holding fewer rows than the header declares ("Unexpected end
 * of input") would otherwise become an uncaught exception and leave the promise pending for ever. So the
 * filter gets a listener as soon as it exists (on 'metadata'), and every later error is swallowed once the
 * promise has settled (a second error must not crash the process either).
 */
export async function decodePng(png: Buffer): Promise<RgbaImage> {
	return await new Promise<RgbaImage>((resolve, reject) => {
		let settled = false;
		const fail = (error: unknown) => {
			if (settled) return;
			settled = true;
			const reason = typeof error === 'string' ? error : ((error as Error)?.message ?? String(error));
			reject(new Error(`cannot decode PNG: ${reason}`));
		};
		const image = new PNG();
		const parser = (image as unknown as { _parser: PngjsParser })._parser;
		parser.on('metadata', () => parser._filter?.on('error', fail));
		image.on('error', fail);
		image.on('parsed', (data: Buffer) => {
			if (settled) return;
			settled = true;
			resolve({ width: image.width, height: image.height, data, gamma: image.gamma || undefined });
		});
		try {
			image.end(png);
		} catch (error) {
			fail(error);
		}
	});
}

/**
 * Composite a PNG with transparency onto a solid background and re-encode it as an opaque RGB PNG.
 *
 * DashScope rejects PNGs with alpha (DASHSCOPE_API.md §4.4), so an RGBA/grey+alpha/palette+tRNS PNG is
 * flattened: out = a·fg + (1 − a)·bg per channel, rounded, in the stored (gamma-encoded) values, as
 * browsers do. pngjs decodes every colour type, bit depth, palette + tRNS and interlacing to 8-bit RGBA
 * (16-bit samples are scaled down). Ancillary chunks other than gAMA (iCCP, sRGB, eXIf…) are not kept.
 *
 * Asynchronous throughout (streamed inflate/deflate, compositing in slices): a 20 MB PNG takes seconds
 * of CPU, and n8n runs other executions on the same event loop.
 */
export async function flattenPng(png: Buffer, background: RgbColor = WHITE): Promise<Buffer> {
	const bg = checkBackground(background);
	return await flattenRgba(await decodePng(png), bg);
}

function checkBackground(background: RgbColor): RgbColor {
	return { r: channel(background.r, 'r'), g: channel(background.g, 'g'), b: channel(background.b, 'b') };
}

/**
 * Composites decoded RGBA pixels onto `background` and encodes an opaque RGB PNG. Works in place on
 * `image.data` (the caller's buffer is consumed).
 */
export async function flattenRgba(image: RgbaImage, background: RgbColor = WHITE): Promise<Buffer> {
	const { r, g, b } = checkBackground(background);
	const bg = [r, g, b];
	const { width, height, data } = image;
	const pixels = width * height;

	// Composite in place, writing RGB at 3·p while reading RGBA at 4·p: the write index never passes the
	// read index, so no second full-size buffer is needed (an 8000² image is 256 MB as RGBA).
	for (let start = 0; start < pixels; start += PIXELS_PER_SLICE) {
		const end = Math.min(pixels, start + PIXELS_PER_SLICE);
		for (let p = start; p < end; p++) {
			const src = p * 4;
			const dst = p * 3;
			const a = data[src + 3];
			for (let c = 0; c < 3; c++) {
				// (a·fg + (255 − a)·bg) / 255 is never exactly x.5 (255 is odd), so Math.round has no ties.
				data[dst + c] = a === 255 ? data[src + c] : Math.round((a * data[src + c] + (255 - a) * bg[c]) / 255);
			}
		}
		if (end < pixels) await yieldToEventLoop();
	}

	const rgb = new PNG({
		width,
		height,
		colorType: 2,
		inputColorType: 2,
		inputHasAlpha: false,
		bitDepth: 8,
		deflateLevel: 6, // pngjs defaults to 9 with Z_RLE: much slower for photos, barely smaller
		deflateStrategy: 0,
	} as ConstructorParameters<typeof PNG>[0]);
	rgb.data = data.subarray(0, pixels * 3);
	if (image.gamma) (rgb as unknown as { gamma: number }).gamma = image.gamma;
	const chunks: Buffer[] = [];
	return await new Promise<Buffer>((resolve, reject) => {
		rgb
			.pack()
			.on('data', (chunk: Buffer) => chunks.push(chunk))
			.on('end', () => resolve(Buffer.concat(chunks)))
			.on('error', reject);
	});
}
