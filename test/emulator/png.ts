/**
 * Result images: real, deterministic RGB PNGs. Content = a gradient chosen from a hash of
 * (prompt, seed, index, size) plus low-amplitude noise, so files have realistic sizes (a few MB at
 * 2K) instead of compressing to nothing; deflate level 1 on the libuv thread pool keeps a 2K image
 * well under a second. `watermark: true` paints a light box bottom-right (where "AI生成" goes).
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { promisify } from 'node:util';

const deflate = promisify(zlib.deflate);

export interface RenderSpec {
	width: number;
	height: number;
	seed: number;
	prompt: string;
	index: number;
	watermark: boolean;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export async function renderPng(spec: RenderSpec): Promise<Buffer> {
	const raw = renderRaw(spec);
	const idat = await deflate(raw, { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY });
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(spec.width, 0);
	ihdr.writeUInt32BE(spec.height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // colour type: RGB (no alpha)
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = 0;
	const text = Buffer.from(`Software\0DashScope emulator (seed ${spec.seed}, image ${spec.index})`, 'latin1');
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
 * Scanlines with the PNG "Sub" filter (type 1): each byte stores the difference to the pixel on its
 * left, so the gradient vanishes and only the small noise remains. Huffman-only deflate of that is
 * fast and still yields realistic sizes (~5 MB at 2K).
 */
function renderRaw(spec: RenderSpec): Buffer {
	const { width, height } = spec;
	const digest = createHash('sha256')
		.update(`${spec.prompt}\u0000${spec.seed}\u0000${spec.index}\u0000${width}x${height}`)
		.digest();
	const from = [digest[0], digest[1], digest[2]];
	const to = [digest[3], digest[4], digest[5]];
	const tilt = (digest[6] / 255) * 0.8 + 0.1; // share of the gradient running along x
	let state = digest.readUInt32LE(8) || 0x9e3779b9; // xorshift32 state, never 0

	const stride = 1 + width * 3;
	const raw = Buffer.allocUnsafe(stride * height);
	const wm = spec.watermark
		? { x0: Math.floor(width * 0.8), x1: Math.floor(width * 0.97), y0: Math.floor(height * 0.93), y1: Math.floor(height * 0.98) }
		: undefined;
	const invW = 1 / Math.max(1, width - 1);
	const invH = 1 / Math.max(1, height - 1);
	const dr = (to[0] - from[0]) * invW * tilt;
	const dg = (to[1] - from[1]) * invW * tilt;
	const db = (to[2] - from[2]) * invW * tilt;
	for (let y = 0; y < height; y++) {
		let p = y * stride;
		raw[p++] = 1; // Sub filter
		const ty = y * invH * (1 - tilt);
		let r = from[0] + (to[0] - from[0]) * ty;
		let g = from[1] + (to[1] - from[1]) * ty;
		let b = from[2] + (to[2] - from[2]) * ty;
		let pr = 0;
		let pg = 0;
		let pb = 0;
		const inWmRow = wm !== undefined && y >= wm.y0 && y < wm.y1;
		for (let x = 0; x < width; x++) {
			state ^= state << 13;
			state ^= state >>> 17;
			state ^= state << 5;
			let cr: number;
			let cg: number;
			let cb: number;
			if (inWmRow && x >= wm.x0 && x < wm.x1) {
				cr = cg = cb = 240;
			} else {
				cr = (r + (state & 3)) | 0;
				cg = (g + ((state >>> 8) & 3)) | 0;
				cb = (b + ((state >>> 16) & 3)) | 0;
				if (cr > 255) cr = 255;
				if (cg > 255) cg = 255;
				if (cb > 255) cb = 255;
			}
			raw[p++] = (cr - pr) & 0xff;
			raw[p++] = (cg - pg) & 0xff;
			raw[p++] = (cb - pb) & 0xff;
			pr = cr;
			pg = cg;
			pb = cb;
			r += dr;
			g += dg;
			b += db;
		}
	}
	return raw;
}
