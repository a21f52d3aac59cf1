/**
 * Small previews of input images for the result pictures. Decodes what is simple to decode: PNG
 * (8/16-bit, not interlaced) and uncompressed BMP — every `step`-th pixel of every `step`-th row, at
 * most PREVIEW_MAX_SIDE pixels a side — and baseline JPEG at 1/8 scale (the average colour of each
 * 8×8 block, which needs no inverse DCT). Anything else (WEBP, progressive JPEG, interlaced PNG, …)
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
		if (format === 'jpeg') return jpegPreview(bytes);
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

interface JpegComponent {
	id: number;
	h: number;
	v: number;
	quant: number;
	dcTable: number;
	acTable: number;
	/** Blocks per line and lines of blocks, padded to whole MCUs. */
	blocksWide: number;
	blocksHigh: number;
	/** Dequantised DC coefficient of every block. */
	dc: Int32Array;
}

interface HuffmanTable {
	/** By the next LOOKUP_BITS bits: (code length << 8) | symbol, 0 when the code is longer. */
	lookup: Uint16Array;
	/** Largest code of each length (index 1–16), -1 when the length has none. */
	maxCode: Int32Array;
	/** Index into `symbols` of the first code of each length, minus that code. */
	offset: Int32Array;
	symbols: Uint8Array;
}

/**
 * Baseline (SOF0/SOF1) Huffman JPEG, one interleaved scan with every component: decodes the
 * entropy-coded data but keeps only the DC coefficient of each block (its average / 8). Grey or
 * YCbCr; any chroma subsampling; restart intervals.
 */
function jpegPreview(bytes: Buffer): RgbImage | undefined {
	const quant: Int32Array[] = [];
	const dcTables: HuffmanTable[] = [];
	const acTables: HuffmanTable[] = [];
	let components: JpegComponent[] = [];
	let width = 0;
	let height = 0;
	let restartInterval = 0;
	let at = 2;
	while (at + 4 <= bytes.length) {
		if (bytes[at] !== 0xff) return undefined;
		const marker = bytes[at + 1];
		if (marker === 0xff) {
			at++;
			continue;
		}
		const length = bytes.readUInt16BE(at + 2);
		const body = bytes.subarray(at + 4, at + 2 + length);
		if (marker === 0xdb) {
			for (let p = 0; p < body.length; ) {
				const wide = body[p] >> 4;
				const table = new Int32Array(64);
				for (let k = 0; k < 64; k++) table[k] = wide ? body.readUInt16BE(p + 1 + 2 * k) : body[p + 1 + k];
				quant[body[p] & 15] = table;
				p += 1 + 64 * (wide ? 2 : 1);
			}
		} else if (marker === 0xc4) {
			for (let p = 0; p < body.length; ) {
				const counts = body.subarray(p + 1, p + 17);
				const total = counts.reduce((sum, c) => sum + c, 0);
				const table = huffmanTable(counts, body.subarray(p + 17, p + 17 + total));
				(body[p] >> 4 ? acTables : dcTables)[body[p] & 15] = table;
				p += 17 + total;
			}
		} else if (marker === 0xc0 || marker === 0xc1) {
			if (body[0] !== 8) return undefined;
			height = body.readUInt16BE(1);
			width = body.readUInt16BE(3);
			components = [];
			for (let i = 0; i < body[5]; i++) {
				const c = body.subarray(6 + 3 * i, 9 + 3 * i);
				components.push({ id: c[0], h: c[1] >> 4, v: c[1] & 15, quant: c[2], dcTable: 0, acTable: 0, blocksWide: 0, blocksHigh: 0, dc: new Int32Array(0) });
			}
		} else if (marker === 0xdd) {
			restartInterval = body.readUInt16BE(0);
		} else if (marker === 0xda) {
			if (!components.length || (components.length !== 1 && components.length !== 3) || body[0] !== components.length) return undefined;
			for (let i = 0; i < body[0]; i++) {
				const component = components.find((c) => c.id === body[1 + 2 * i]);
				if (!component) return undefined;
				component.dcTable = body[2 + 2 * i] >> 4;
				component.acTable = body[2 + 2 * i] & 15;
			}
			return decodeJpegScan(bytes, at + 2 + length, { width, height, components, quant, dcTables, acTables, restartInterval });
		} else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
			return undefined; // progressive, lossless or arithmetic coding
		}
		at += 2 + length;
	}
	return undefined;
}

const LOOKUP_BITS = 9;

function huffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
	const maxCode = new Int32Array(18).fill(-1);
	const offset = new Int32Array(18);
	const lookup = new Uint16Array(1 << LOOKUP_BITS);
	let code = 0;
	let index = 0;
	for (let length = 1; length <= 16; length++) {
		offset[length] = index - code;
		for (let i = 0; i < counts[length - 1]; i++, code++, index++) {
			if (length <= LOOKUP_BITS) {
				const first = code << (LOOKUP_BITS - length);
				lookup.fill((length << 8) | symbols[index], first, first + (1 << (LOOKUP_BITS - length)));
			}
		}
		if (counts[length - 1]) maxCode[length] = code - 1;
		code <<= 1;
	}
	return { lookup, maxCode, offset, symbols };
}

function decodeJpegScan(
	bytes: Buffer,
	start: number,
	frame: {
		width: number;
		height: number;
		components: JpegComponent[];
		quant: Int32Array[];
		dcTables: HuffmanTable[];
		acTables: HuffmanTable[];
		restartInterval: number;
	},
): RgbImage | undefined {
	const { width, height, components } = frame;
	const hMax = Math.max(...components.map((c) => c.h));
	const vMax = Math.max(...components.map((c) => c.v));
	const single = components.length === 1;
	const mcusWide = single ? Math.ceil(width / 8) : Math.ceil(width / (8 * hMax));
	const mcusHigh = single ? Math.ceil(height / 8) : Math.ceil(height / (8 * vMax));
	for (const c of components) {
		if (!frame.quant[c.quant] || !frame.dcTables[c.dcTable] || !frame.acTables[c.acTable]) return undefined;
		c.blocksWide = mcusWide * (single ? 1 : c.h);
		c.blocksHigh = mcusHigh * (single ? 1 : c.v);
		c.dc = new Int32Array(c.blocksWide * c.blocksHigh);
	}

	// Bit reader over the entropy-coded data: skips stuffed zero bytes, reads zeros at a marker.
	// `bits` holds `count` unread bits (at most 32), the oldest highest.
	let pos = start;
	let bits = 0;
	let count = 0;
	const fill = (): void => {
		while (count <= 24) {
			const byte = bytes[pos];
			let next = 0; // end of data or a marker: zeros, and the marker stays where it is
			if (byte !== undefined && (byte !== 0xff || bytes[pos + 1] === 0x00)) {
				next = byte;
				pos += byte === 0xff ? 2 : 1; // 0xFF 0x00 is a stuffed 0xFF
			}
			bits = ((bits << 8) | next) >>> 0;
			count += 8;
		}
	};
	const receive = (size: number): number => {
		if (size === 0) return 0;
		if (count < size) fill();
		count -= size;
		const value = (bits >>> count) & ((1 << size) - 1);
		bits = (bits & ((1 << count) - 1)) >>> 0;
		return value;
	};
	const decode = (table: HuffmanTable): number => {
		if (count < 16) fill();
		const hit = table.lookup[(bits >>> (count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)];
		if (hit) {
			receive(hit >> 8);
			return hit & 0xff;
		}
		for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
			const code = (bits >>> (count - length)) & ((1 << length) - 1);
			if (code <= table.maxCode[length]) {
				receive(length);
				return table.symbols[table.offset[length] + code];
			}
		}
		throw new Error('bad Huffman code');
	};
	const extend = (value: number, size: number): number => (size && value < 1 << (size - 1) ? value - (1 << size) + 1 : value);

	const predictions = new Int32Array(components.length);
	const readBlock = (c: JpegComponent, index: number, ci: number): void => {
		const size = decode(frame.dcTables[c.dcTable]);
		predictions[ci] += extend(receive(size), size);
		c.dc[index] = predictions[ci] * frame.quant[c.quant][0];
		for (let k = 1; k < 64; ) {
			const rs = decode(frame.acTables[c.acTable]);
			const run = rs >> 4;
			const acSize = rs & 15;
			if (acSize === 0) {
				if (run !== 15) break; // end of block
				k += 16;
			} else {
				receive(acSize);
				k += run + 1;
			}
		}
	};

	const mcuCount = mcusWide * mcusHigh;
	for (let mcu = 0; mcu < mcuCount; mcu++) {
		if (frame.restartInterval && mcu > 0 && mcu % frame.restartInterval === 0) {
			// Restart: drop the buffered bits, step over the RSTn marker, reset the DC predictions.
			bits = 0;
			count = 0;
			while (pos + 1 < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7)) pos++;
			pos += 2;
			predictions.fill(0);
		}
		const mx = mcu % mcusWide;
		const my = Math.floor(mcu / mcusWide);
		components.forEach((c, ci) => {
			const h = single ? 1 : c.h;
			const v = single ? 1 : c.v;
			for (let by = 0; by < v; by++) {
				for (let bx = 0; bx < h; bx++) readBlock(c, (my * v + by) * c.blocksWide + mx * h + bx, ci);
			}
		});
	}

	// One preview pixel per luma-resolution block: DC / 8 + 128 is the block's mean sample.
	const outWidth = Math.ceil(width / 8);
	const outHeight = Math.ceil(height / 8);
	const pixels = Buffer.alloc(outWidth * outHeight * 3);
	const sample = (c: JpegComponent, x: number, y: number): number => {
		const bx = Math.min(c.blocksWide - 1, Math.floor((x * (single ? 1 : c.h)) / hMax));
		const by = Math.min(c.blocksHigh - 1, Math.floor((y * (single ? 1 : c.v)) / vMax));
		return c.dc[by * c.blocksWide + bx] / 8 + 128;
	};
	const clamp = (value: number): number => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
	let o = 0;
	for (let y = 0; y < outHeight; y++) {
		for (let x = 0; x < outWidth; x++) {
			const luma = sample(components[0], x, y);
			if (single) {
				pixels.fill(clamp(luma), o, o + 3);
			} else {
				const cb = sample(components[1], x, y) - 128;
				const cr = sample(components[2], x, y) - 128;
				pixels[o] = clamp(luma + 1.402 * cr);
				pixels[o + 1] = clamp(luma - 0.344136 * cb - 0.714136 * cr);
				pixels[o + 2] = clamp(luma + 1.772 * cb);
			}
			o += 3;
		}
	}
	return { width: outWidth, height: outHeight, pixels };
}
