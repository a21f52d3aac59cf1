/**
 * Encoders for result pictures from an RGB Canvas (test/emulator/canvas.ts, PNG scanline layout):
 * - PNG: RGB, Sub filter, zlib (like the DashScope emulator's);
 * - JPG: baseline JFIF, 4:4:4, the standard (Annex K) quantisation tables scaled by `quality` as
 *   libjpeg does; one fixed-length Huffman table pair (valid, just not optimal) so no code tables
 *   need to be copied;
 * - WEBP: lossless (VP8L) with no transforms, 8-bit codes for green/red/blue and single-symbol
 *   alpha/distance codes: about 3 bytes a pixel. `quality` does not apply to lossless WEBP.
 * No dependencies: the repository has no JPEG/WEBP library and this emulator adds none.
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';

import type { Canvas } from '../emulator/canvas';
import { pngChunk } from '../emulator/png';

const deflate = promisify(zlib.deflate);

export async function encodePng(canvas: Canvas, software: string): Promise<Buffer> {
	canvas.subFilter();
	const idat = await deflate(canvas.data, { level: 1 });
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(canvas.width, 0);
	ihdr.writeUInt32BE(canvas.height, 4);
	ihdr[8] = 8;
	ihdr[9] = 2; // RGB
	const text = Buffer.from(`Software\0${software}`, 'latin1');
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk('IHDR', ihdr),
		pngChunk('tEXt', text),
		pngChunk('IDAT', idat),
		pngChunk('IEND', Buffer.alloc(0)),
	]);
}

// ------------------------------------------------------------------ JPEG

/** Natural (row-major) index of the k-th coefficient in zig-zag order. */
const ZIGZAG = [
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49,
	56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

// prettier-ignore
const LUMA_QUANT = [
	16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
// prettier-ignore
const CHROMA_QUANT = [
	17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
	...new Array<number>(32).fill(99),
];

/** libjpeg's quality scaling (1–100) of a base table, natural order. */
function scaledQuant(base: number[], quality: number): number[] {
	const q = Math.min(100, Math.max(1, Math.round(quality)));
	const scale = q < 50 ? 5000 / q : 200 - 2 * q;
	return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

/** DC symbols 0–11 at 4 bits; AC symbols EOB, ZRL and run/size 0–15 × 1–10 at 8 bits. */
const DC_SYMBOLS = Array.from({ length: 12 }, (_, i) => i);
const AC_SYMBOLS = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => ((i / 10) << 4) | ((i % 10) + 1))];

interface FixedCode {
	length: number;
	/** Code of each symbol (canonical: in listing order). */
	codes: Int32Array;
	dht: Buffer;
}

function fixedCode(symbols: number[], length: number, tableClass: number): FixedCode {
	const codes = new Int32Array(256).fill(-1);
	symbols.forEach((s, i) => (codes[s] = i));
	const counts = Buffer.alloc(16);
	counts[length - 1] = symbols.length;
	return { length, codes, dht: Buffer.concat([Buffer.from([tableClass << 4]), counts, Buffer.from(symbols)]) };
}

const DC_CODE = fixedCode(DC_SYMBOLS, 4, 0);
const AC_CODE = fixedCode(AC_SYMBOLS, 8, 1);

function segment(marker: number, body: Buffer): Buffer {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(body.length + 2, 2);
	return Buffer.concat([head, body]);
}

class JpegBitWriter {
	private readonly out: number[] = [];
	private acc = 0;
	private count = 0;

	write(value: number, length: number): void {
		for (let i = length - 1; i >= 0; i--) {
			this.acc = (this.acc << 1) | ((value >>> i) & 1);
			if (++this.count === 8) this.flushByte();
		}
	}

	private flushByte(): void {
		this.out.push(this.acc);
		if (this.acc === 0xff) this.out.push(0x00); // byte stuffing
		this.acc = 0;
		this.count = 0;
	}

	finish(): Buffer {
		while (this.count !== 0) this.write(1, 1); // pad with ones
		return Buffer.from(this.out);
	}
}

const COS = (() => {
	const table = new Float64Array(64);
	for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) table[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16) * (u === 0 ? Math.SQRT1_2 : 1) * 0.5;
	return table;
})();

/** Separable 2-D DCT-II of an 8×8 block (level-shifted samples, natural order) into `out`. */
function dct(block: Float64Array, out: Float64Array, tmp: Float64Array): void {
	for (let y = 0; y < 8; y++) {
		for (let u = 0; u < 8; u++) {
			let sum = 0;
			for (let x = 0; x < 8; x++) sum += block[y * 8 + x] * COS[x * 8 + u];
			tmp[y * 8 + u] = sum;
		}
	}
	for (let u = 0; u < 8; u++) {
		for (let v = 0; v < 8; v++) {
			let sum = 0;
			for (let y = 0; y < 8; y++) sum += tmp[y * 8 + u] * COS[y * 8 + v];
			out[v * 8 + u] = sum;
		}
	}
}

function magnitude(value: number): [size: number, bits: number] {
	const abs = Math.abs(value);
	let size = 0;
	while (abs >> size) size++;
	return [size, value < 0 ? value + (1 << size) - 1 : value];
}

export function encodeJpeg(canvas: Canvas, quality: number): Buffer {
	const { width, height, data } = canvas;
	const quants = [scaledQuant(LUMA_QUANT, quality), scaledQuant(CHROMA_QUANT, quality)];
	const dqt = Buffer.concat(quants.map((table, id) => Buffer.from([id, ...ZIGZAG.map((n) => table[n])])));
	const sof = Buffer.from([8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
	const sos = Buffer.from([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
	const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);

	const writer = new JpegBitWriter();
	const planes = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];
	const coef = new Float64Array(64);
	const tmp = new Float64Array(64);
	const predictions = [0, 0, 0];
	for (let by = 0; by < height; by += 8) {
		for (let bx = 0; bx < width; bx += 8) {
			for (let y = 0; y < 8; y++) {
				const p0 = canvas.offset(0, Math.min(height - 1, by + y));
				for (let x = 0; x < 8; x++) {
					const p = p0 + Math.min(width - 1, bx + x) * 3; // edge blocks repeat the last pixel
					const r = data[p];
					const g = data[p + 1];
					const b = data[p + 2];
					const i = y * 8 + x;
					planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
					planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b;
					planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b;
				}
			}
			for (let c = 0; c < 3; c++) {
				dct(planes[c], coef, tmp);
				const quant = quants[c === 0 ? 0 : 1];
				const dc = Math.round(coef[0] / quant[0]);
				const [dcSize, dcBits] = magnitude(dc - predictions[c]);
				predictions[c] = dc;
				writer.write(DC_CODE.codes[dcSize], DC_CODE.length);
				if (dcSize) writer.write(dcBits, dcSize);
				let run = 0;
				for (let k = 1; k < 64; k++) {
					const n = ZIGZAG[k];
					const value = Math.round(coef[n] / quant[n]);
					if (value === 0) {
						run++;
						continue;
					}
					while (run > 15) {
						writer.write(AC_CODE.codes[0xf0], AC_CODE.length);
						run -= 16;
					}
					const [size, bits] = magnitude(Math.max(-1023, Math.min(1023, value)));
					writer.write(AC_CODE.codes[(run << 4) | size], AC_CODE.length);
					writer.write(bits, size);
					run = 0;
				}
				if (run > 0) writer.write(AC_CODE.codes[0x00], AC_CODE.length);
			}
		}
	}
	return Buffer.concat([
		Buffer.from([0xff, 0xd8]),
		segment(0xe0, jfif),
		segment(0xdb, dqt),
		segment(0xc0, sof),
		segment(0xc4, Buffer.concat([DC_CODE.dht, AC_CODE.dht])),
		segment(0xda, sos),
		writer.finish(),
		Buffer.from([0xff, 0xd9]),
	]);
}

// ------------------------------------------------------------------ WEBP (lossless)

/** VP8L bit writer: least significant bit first. */
class LsbBitWriter {
	private readonly chunks: Buffer[] = [];
	private buf = Buffer.alloc(1 << 16);
	private at = 0;
	private acc = 0;
	private count = 0;

	write(value: number, length: number): void {
		this.acc |= (value & ((1 << length) - 1)) << this.count;
		this.count += length;
		while (this.count >= 8) {
			if (this.at === this.buf.length) {
				this.chunks.push(this.buf);
				this.buf = Buffer.alloc(1 << 16);
				this.at = 0;
			}
			this.buf[this.at++] = this.acc & 0xff;
			this.acc >>>= 8;
			this.count -= 8;
		}
	}

	finish(): Buffer {
		if (this.count > 0) this.write(0, 8 - this.count);
		return Buffer.concat([...this.chunks, this.buf.subarray(0, this.at)]);
	}
}

/** Bit-reversed 8-bit codes: VP8L reads a prefix code's first bit first, from the low end. */
const REVERSED8 = Uint8Array.from({ length: 256 }, (_, v) => {
	let r = 0;
	for (let i = 0; i < 8; i++) r |= ((v >> i) & 1) << (7 - i);
	return r;
});

/**
 * A "normal" prefix code where the first 256 symbols have length 8 and the rest (green's 24
 * length codes) length 0. Its code-length code has two symbols, 0 and 8, of one bit each.
 */
function writeFlat8Code(w: LsbBitWriter, alphabetSize: number): void {
	w.write(0, 1); // normal code
	w.write(12 - 4, 4); // 12 code-length-code lengths: order 17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8
	for (const symbol of [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8]) w.write(symbol === 0 || symbol === 8 ? 1 : 0, 3);
	w.write(0, 1); // max_symbol = alphabet size
	for (let s = 0; s < alphabetSize; s++) w.write(s < 256 ? 1 : 0, 1); // canonical: '0' → length 0, '1' → length 8
}

function writeSingleSymbolCode(w: LsbBitWriter, symbol: number): void {
	w.write(1, 1); // simple code
	w.write(0, 1); // one symbol
	w.write(1, 1); // 8-bit symbol
	w.write(symbol, 8);
}

export function encodeWebpLossless(canvas: Canvas): Buffer {
	const { width, height, data } = canvas;
	const w = new LsbBitWriter();
	w.write(0x2f, 8);
	w.write(width - 1, 14);
	w.write(height - 1, 14);
	w.write(0, 1); // alpha unused
	w.write(0, 3); // version
	w.write(0, 1); // no transform
	w.write(0, 1); // no colour cache
	w.write(0, 1); // no meta prefix codes
	writeFlat8Code(w, 256 + 24); // green + length prefixes
	writeFlat8Code(w, 256); // red
	writeFlat8Code(w, 256); // blue
	writeSingleSymbolCode(w, 255); // alpha: always opaque, zero bits a pixel
	writeSingleSymbolCode(w, 0); // distance: unused
	for (let y = 0; y < height; y++) {
		let p = canvas.offset(0, y);
		for (let x = 0; x < width; x++, p += 3) {
			w.write(REVERSED8[data[p + 1]] | (REVERSED8[data[p]] << 8) | (REVERSED8[data[p + 2]] << 16), 24);
		}
	}
	const vp8l = w.finish();
	const padded = vp8l.length % 2 ? Buffer.concat([vp8l, Buffer.alloc(1)]) : vp8l;
	const header = Buffer.alloc(20);
	header.write('RIFF', 0, 'latin1');
	header.writeUInt32LE(12 + padded.length, 4);
	header.write('WEBPVP8L', 8, 'latin1');
	header.writeUInt32LE(vp8l.length, 16);
	return Buffer.concat([header, padded]);
}
