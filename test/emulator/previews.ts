/**
 * Small previews of input images for the result pictures: every `step`-th pixel of every `step`-th
 * row, at most PREVIEW_MAX_SIDE pixels a side. Decodes what is simple to decode exactly — PNG
 * (8/16-bit, not interlaced) and uncompressed BMP; anything else (JPEG, WEBP, interlaced PNG, …)
 * returns undefined and the caller draws a labelled placeholder.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import type { RgbImage } from './canvas';
import type { ImageFormat } from './images';

const inflate = promisify(zlib.inflate);

export const PREVIEW_MAX_SIDE = 256;

export async function decodePreview(bytes: Buffer, format: ImageFormat): Promise<RgbImage | undefined> {
	try {
		if (format === 'png') return await pngPreview(bytes);
		if (format === 'bmp') return bmpPreview(bytes);
	} catch {
		// A file that passed the header checks but does not decode: shown as a placeholder.
	}
	return undefined;
}

/** Sampling step and preview size for a `width`×`height` picture. */
function sampling(width: number, height: number): { step: number; width: number; height: number } {
	const step = Math.max(1, Math.ceil(Math.max(width, height) / PREVIEW_MAX_SIDE));
	return { step, width: Math.ceil(width / step), height: Math.ceil(height / step) };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

async function pngPreview(bytes: Buffer): Promise<RgbImage | undefined> {
	const width = bytes.readUInt32BE(16);
	const height = bytes.readUInt32BE(20);
	const depth = bytes[24];
	const colorType = bytes[25];
	const channels = CHANNELS[colorType];
	if (!channels || (depth !== 8 && depth !== 16) || bytes[28] !== 0) return undefined; // low bit depths, interlacing
	const idat: Buffer[] = [];
	let palette: Buffer | undefined;
	for (let at = 8; at + 8 <= bytes.length; ) {
		const length = bytes.readUInt32BE(at);
		const type = bytes.toString('latin1', at + 4, at + 8);
		const data = bytes.subarray(at + 8, at + 8 + length);
		if (type === 'IDAT') idat.push(data);
		else if (type === 'PLTE') palette = data;
		else if (type === 'IEND') break;
		at += 12 + length;
	}
	if (colorType === 3 && !palette) return undefined;
	const raw = await inflate(Buffer.concat(idat));
	const bpp = (channels * depth) / 8; // bytes per pixel
	const rowBytes = width * bpp;
	if (raw.length < (rowBytes + 1) * height) return undefined;
	const out = sampling(width, height);
	const pixels = Buffer.alloc(out.width * out.height * 3);
	let prev = Buffer.alloc(rowBytes);
	let row = Buffer.alloc(rowBytes);
	const sample = depth / 8; // the high byte of a 16-bit sample comes first
	for (let y = 0; y < height; y++) {
		unfilter(raw[y * (rowBytes + 1)], raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)), row, prev, bpp);
		if (y % out.step === 0) {
			let o = (y / out.step) * out.width * 3;
			for (let x = 0; x < width; x += out.step) {
				const p = x * bpp;
				if (colorType === 3) {
					const entry = (palette as Buffer).subarray(row[p] * 3, row[p] * 3 + 3);
					pixels[o++] = entry[0] ?? 0;
					pixels[o++] = entry[1] ?? 0;
					pixels[o++] = entry[2] ?? 0;
				} else if (channels >= 3) {
					pixels[o++] = row[p];
					pixels[o++] = row[p + sample];
					pixels[o++] = row[p + 2 * sample];
				} else {
					pixels.fill(row[p], o, o + 3); // grey
					o += 3;
				}
			}
		}
		[prev, row] = [row, prev];
	}
	return { width: out.width, height: out.height, pixels };
}

/** Reverses one scanline's PNG filter into `out` (`prev` = the previous unfiltered line); one loop per type, for speed. */
function unfilter(type: number, line: Buffer, out: Buffer, prev: Buffer, bpp: number): void {
	const n = line.length;
	if (type === 0) {
		line.copy(out);
	} else if (type === 1) {
		for (let i = 0; i < bpp; i++) out[i] = line[i];
		for (let i = bpp; i < n; i++) out[i] = line[i] + out[i - bpp];
	} else if (type === 2) {
		for (let i = 0; i < n; i++) out[i] = line[i] + prev[i];
	} else if (type === 3) {
		for (let i = 0; i < bpp; i++) out[i] = line[i] + (prev[i] >> 1);
		for (let i = bpp; i < n; i++) out[i] = line[i] + ((out[i - bpp] + prev[i]) >> 1);
	} else if (type === 4) {
		for (let i = 0; i < bpp; i++) out[i] = line[i] + prev[i]; // left and up-left are 0: Paeth picks up
		for (let i = bpp; i < n; i++) {
			const left = out[i - bpp];
			const up = prev[i];
			const upLeft = prev[i - bpp];
			const dl = Math.abs(up - upLeft); // |base - left| with base = left + up - upLeft
			const du = Math.abs(left - upLeft);
			const dul = Math.abs(left + up - 2 * upLeft);
			out[i] = line[i] + (dl <= du && dl <= dul ? left : du <= dul ? up : upLeft);
		}
	} else {
		throw new Error(`unknown PNG filter type ${type}`);
	}
}

/** Uncompressed BMP (24/32-bit, or 8-bit with a palette); rows bottom-up unless the height is negative. */
function bmpPreview(bytes: Buffer): RgbImage | undefined {
	const dataOffset = bytes.readUInt32LE(10);
	const headerSize = bytes.readUInt32LE(14);
	if (headerSize < 40) return undefined;
	const width = bytes.readInt32LE(18);
	const signedHeight = bytes.readInt32LE(22);
	const height = Math.abs(signedHeight);
	const bits = bytes.readUInt16LE(28);
	const compression = bytes.readUInt32LE(30);
	// 0 = BI_RGB; 3 = BI_BITFIELDS, read here as the usual BGRA layout of 32-bit files.
	if (!(compression === 0 || (compression === 3 && bits === 32)) || ![8, 24, 32].includes(bits)) return undefined;
	const rowBytes = Math.ceil((width * bits) / 32) * 4;
	if (dataOffset + rowBytes * height > bytes.length) return undefined;
	const paletteAt = 14 + headerSize;
	const out = sampling(width, height);
	const pixels = Buffer.alloc(out.width * out.height * 3);
	let o = 0;
	for (let y = 0; y < height; y += out.step) {
		const fileRow = signedHeight > 0 ? height - 1 - y : y;
		const rowAt = dataOffset + fileRow * rowBytes;
		for (let x = 0; x < width; x += out.step) {
			const p = bits === 8 ? paletteAt + bytes[rowAt + x] * 4 : rowAt + x * (bits / 8);
			pixels[o++] = bytes[p + 2];
			pixels[o++] = bytes[p + 1];
			pixels[o++] = bytes[p];
		}
	}
	return { width: out.width, height: out.height, pixels };
}
