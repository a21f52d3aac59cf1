/**
 * Decodes the BMPs that can carry transparency — 16- and 32-bit, uncompressed, with colour masks
 * (BI_BITFIELDS in a V3+ header, or BI_ALPHABITFIELDS) — to 8-bit RGBA, so the pipeline can decide by
 * the actual alpha values whether a BMP is transparent, and flatten it like a PNG when it is.
 * Other BMPs (24-bit, palettes, BI_RGB 32-bit) have no alpha: they are never decoded.
 */
import type { RgbaImage } from './flattenPng';

const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

function maskShape(mask: number): { shift: number; max: number } {
	if (mask === 0) return { shift: 0, max: 0 };
	let shift = 0;
	while (((mask >>> shift) & 1) === 0) shift++;
	return { shift, max: mask >>> shift };
}

/** Scales a masked sample to 0–255. */
function sample(pixel: number, mask: number, shape: { shift: number; max: number }): number {
	if (!shape.max) return 0;
	const value = ((pixel & mask) >>> 0) >>> shape.shift;
	return shape.max === 255 ? value : Math.round((value * 255) / shape.max);
}

/** Throws a plain Error naming what is wrong; the caller names the item and image. */
export function decodeMaskedBmp(bmp: Buffer): RgbaImage {
	if (bmp.length < 70) throw new Error('truncated BMP header');
	const pixelOffset = bmp.readUInt32LE(10);
	const dibSize = bmp.readUInt32LE(14);
	const width = bmp.readInt32LE(18);
	const rawHeight = bmp.readInt32LE(22);
	const height = Math.abs(rawHeight);
	const bitCount = bmp.readUInt16LE(28);
	const compression = bmp.readUInt32LE(30);
	const masked =
		(dibSize >= 56 && (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS)) ||
		(dibSize === 40 && compression === BI_ALPHABITFIELDS);
	if (!masked || (bitCount !== 16 && bitCount !== 32)) {
		throw new Error(`unsupported BMP for alpha decoding (${bitCount}-bit, compression ${compression})`);
	}
	const masks = [54, 58, 62, 66].map((at) => bmp.readUInt32LE(at));
	const shapes = masks.map(maskShape);
	const bytesPerPixel = bitCount / 8;
	const stride = Math.ceil((width * bytesPerPixel) / 4) * 4; // rows are padded to 4 bytes
	const needed = pixelOffset + stride * height;
	if (width <= 0 || height === 0) throw new Error(`corrupt BMP: ${width}×${height} px`);
	if (bmp.length < needed) {
		throw new Error(
			`truncated BMP: the header declares ${width}×${height} px (${needed} bytes) but the file has ${bmp.length} bytes`,
		);
	}
	const data = Buffer.alloc(width * height * 4);
	const bottomUp = rawHeight > 0;
	for (let y = 0; y < height; y++) {
		const row = pixelOffset + (bottomUp ? height - 1 - y : y) * stride;
		for (let x = 0; x < width; x++) {
			const at = row + x * bytesPerPixel;
			const pixel = bitCount === 32 ? bmp.readUInt32LE(at) : bmp.readUInt16LE(at);
			const out = (y * width + x) * 4;
			for (let c = 0; c < 4; c++) data[out + c] = sample(pixel, masks[c], shapes[c]);
		}
	}
	return { width, height, data };
}

/**
 * Whether any pixel is actually translucent. A BMP whose alpha samples are all 0 is treated as opaque,
 * as browsers do: many writers declare an alpha mask and leave the channel unused (zero).
 */
export function alphaInUse(image: RgbaImage): boolean {
	let zeros = 0;
	for (let p = 3; p < image.data.length; p += 4) {
		const a = image.data[p];
		if (a === 0) zeros++;
		else if (a !== 255) return true;
	}
	// Only 0 and 255: transparent when both occur; all 0 means the channel is unused.
	return zeros > 0 && zeros < image.data.length / 4;
}
