/**
 * Result images: real, deterministic RGB PNGs. A seeded gradient with low-amplitude noise (realistic
 * file sizes: a few MB at 2K) under an overlay that shows what the request sent (overlay.ts).
 * Huffman-only deflate on the libuv thread pool keeps a 2K image well under a second.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { promisify } from 'node:util';

import { Canvas } from './canvas';
import { paintOverlay, type RenderSpec } from './overlay';

export type { RenderSpec } from './overlay';

const deflate = promisify(zlib.deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** `software` names the emulator in the PNG's tEXt chunk (other emulators reuse this renderer). */
export async function renderPng(spec: RenderSpec, software = 'DashScope emulator'): Promise<Buffer> {
	const canvas = new Canvas(spec.width, spec.height);
	paintBackground(canvas, spec);
	await paintOverlay(canvas, spec);
	canvas.subFilter(); // each byte becomes the difference to its left neighbour: only the small noise remains
	const idat = await deflate(canvas.data, { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY });
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(spec.width, 0);
	ihdr.writeUInt32BE(spec.height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // colour type: RGB (no alpha)
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = 0;
	const text = Buffer.from(`Software\0${software} (seed ${spec.seed}, image ${spec.index})`, 'latin1');
	return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('tEXt', text), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** One PNG chunk: length, type, data, CRC-32 of type+data. Also used by the test image builders (fixtures.ts). */
export function pngChunk(type: string, data: Buffer): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
	return Buffer.concat([head, data, crc]);
}

const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

function crc32(buf: Buffer): number {
	const native = (zlib as unknown as { crc32?: (b: Buffer) => number }).crc32;
	if (native) return native(buf) >>> 0;
	let c = 0xffffffff;
	for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/**
 * The picture under the overlay: a gradient chosen from a hash of (prompt, seed, index, size) plus
 * low-amplitude noise, so files have realistic sizes instead of compressing to nothing.
 */
function paintBackground(canvas: Canvas, spec: RenderSpec): void {
	const { width, height } = spec;
	const digest = createHash('sha256')
		.update(`${spec.prompt}\u0000${spec.seed}\u0000${spec.index}\u0000${width}x${height}`)
		.digest();
	const from = [digest[0], digest[1], digest[2]];
	const to = [digest[3], digest[4], digest[5]];
	const tilt = (digest[6] / 255) * 0.8 + 0.1; // share of the gradient running along x
	let state = digest.readUInt32LE(8) || 0x9e3779b9; // xorshift32 state, never 0

	const data = canvas.data;
	const invW = 1 / Math.max(1, width - 1);
	const invH = 1 / Math.max(1, height - 1);
	const dr = (to[0] - from[0]) * invW * tilt;
	const dg = (to[1] - from[1]) * invW * tilt;
	const db = (to[2] - from[2]) * invW * tilt;
	for (let y = 0; y < height; y++) {
		let p = canvas.offset(0, y);
		const ty = y * invH * (1 - tilt);
		let r = from[0] + (to[0] - from[0]) * ty;
		let g = from[1] + (to[1] - from[1]) * ty;
		let b = from[2] + (to[2] - from[2]) * ty;
		for (let x = 0; x < width; x++) {
			state ^= state << 13;
			state ^= state >>> 17;
			state ^= state << 5;
			data[p++] = Math.min(255, (r + (state & 3)) | 0);
			data[p++] = Math.min(255, (g + ((state >>> 8) & 3)) | 0);
			data[p++] = Math.min(255, (b + ((state >>> 16) & 3)) | 0);
			r += dr;
			g += dg;
			b += db;
		}
	}
}
