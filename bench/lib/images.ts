/**
 * Benchmark input images, written to disk row by row (never held whole in memory), so the process that
 * makes them stays small. All are valid for Wan 2.7 (≤ 20 MiB, sides 240–8000 px, aspect ≤ 8:1).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/** 24-bit bottom-up BMP (BITMAPINFOHEADER) filled with noise. Size = 54 + rowBytes × height. */
export function writeNoisyBmp(path: string, width: number, height: number, seed = 0): number {
	const rowBytes = Math.ceil((width * 3) / 4) * 4;
	const pixelBytes = rowBytes * height;
	const header = Buffer.alloc(54);
	header.write('BM', 0, 'latin1');
	header.writeUInt32LE(54 + pixelBytes, 2);
	header.writeUInt32LE(54, 10); // pixel data offset
	header.writeUInt32LE(40, 14); // BITMAPINFOHEADER
	header.writeInt32LE(width, 18);
	header.writeInt32LE(height, 22);
	header.writeUInt16LE(1, 26); // planes
	header.writeUInt16LE(24, 28); // bits per pixel
	header.writeUInt32LE(0, 30); // BI_RGB
	header.writeUInt32LE(pixelBytes, 34);
	header.writeInt32LE(2835, 38);
	header.writeInt32LE(2835, 42);
	const fd = openSync(path, 'w');
	try {
		writeSync(fd, header);
		const rows = Buffer.alloc(rowBytes * 64);
		for (let y = 0; y < height; y += 64) {
			const n = Math.min(64, height - y);
			randomFillSync(rows);
			rows[0] = seed & 0xff; // distinct files
			writeSync(fd, rows, 0, rowBytes * n);
		}
	} finally {
		closeSync(fd);
	}
	return 54 + pixelBytes;
}

const CRC_TABLE = (() => {
	const table = new Int32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c;
	}
	return table;
})();

function crc32(...parts: Buffer[]): number {
	let c = -1;
	for (const part of parts) for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]) & 0xff] ^ (c >>> 8);
	return (c ^ -1) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const typeBuf = head.subarray(4, 8);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(typeBuf, data), 0);
	return Buffer.concat([head, data, crc]);
}

/**
 * PNG of noise: opaque RGB (colour type 2), or RGBA (6) with `alpha`; stored deflate (level 0: noise
 * does not compress anyway, so the file is a few hundred bytes bigger than the raw pixels), in 1 MiB IDATs.
 */
export function writeNoisyPng(path: string, width: number, height: number, alpha = false): number {
	const channels = alpha ? 4 : 3;
	const fd = openSync(path, 'w');
	let size = 0;
	const put = (buf: Buffer) => {
		writeSync(fd, buf);
		size += buf.length;
	};
	try {
		put(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
		const ihdr = Buffer.alloc(13);
		ihdr.writeUInt32BE(width, 0);
		ihdr.writeUInt32BE(height, 4);
		ihdr[8] = 8; // bit depth
		ihdr[9] = alpha ? 6 : 2; // RGBA / RGB
		put(pngChunk('IHDR', ihdr));
		// One zlib stream (stored blocks) split across IDAT chunks.
		const rowBytes = 1 + width * channels;
		const raw = Buffer.alloc(rowBytes * height);
		randomFillSync(raw);
		for (let y = 0; y < height; y++) raw[y * rowBytes] = 0; // filter type None
		const z = deflateSync(raw, { level: 0 });
		const piece = 1 << 20;
		for (let at = 0; at < z.length; at += piece) put(pngChunk('IDAT', z.subarray(at, Math.min(z.length, at + piece))));
		put(pngChunk('IEND', Buffer.alloc(0)));
	} finally {
		closeSync(fd);
	}
	return size;
}

/**
 * A baseline JPEG's marker structure — SOI, APP0 JFIF, `appSegments` × 64 KiB APP2 (ICC-like) blocks,
 * DQT, SOF0 (width×height, 3 components), DHT, SOS — followed by `totalBytes` worth of entropy-coded
 * filler (no 0xFF bytes) and EOI. The headers are what a header probe (node or emulator) reads; the scan
 * data is not decodable pixels. Used only where nothing is sent.
 */
export function writeSyntheticJpeg(path: string, width: number, height: number, totalBytes: number, appSegments = 4): number {
	const fd = openSync(path, 'w');
	let size = 0;
	const put = (buf: Buffer) => {
		writeSync(fd, buf);
		size += buf.length;
	};
	const segment = (marker: number, body: Buffer) => {
		const head = Buffer.from([0xff, marker, 0, 0]);
		head.writeUInt16BE(body.length + 2, 2);
		put(Buffer.concat([head, body]));
	};
	try {
		put(Buffer.from([0xff, 0xd8]));
		segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'));
		for (let i = 0; i < appSegments; i++) {
			const body = Buffer.alloc(65533);
			randomFillSync(body);
			Buffer.from('ICC_PROFILE\0', 'latin1').copy(body);
			segment(0xe2, body);
		}
		segment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]));
		const sof = Buffer.alloc(15);
		sof[0] = 8;
		sof.writeUInt16BE(height, 1);
		sof.writeUInt16BE(width, 3);
		sof[5] = 3;
		for (let c = 0; c < 3; c++) sof.set([c + 1, 0x11, 0], 6 + c * 3);
		segment(0xc0, sof);
		segment(0xc4, Buffer.concat([Buffer.from([0]), Buffer.alloc(16), Buffer.alloc(0)]));
		segment(0xda, Buffer.from([3, 1, 0, 2, 0, 3, 0, 0, 63, 0]));
		const block = Buffer.alloc(1 << 20);
		while (size + 2 < totalBytes) {
			const n = Math.min(block.length, totalBytes - 2 - size);
			randomFillSync(block, 0, n);
			for (let i = 0; i < n; i++) if (block[i] === 0xff) block[i] = 0xfe;
			put(block.subarray(0, n));
		}
		put(Buffer.from([0xff, 0xd9]));
	} finally {
		closeSync(fd);
	}
	return size;
}
