import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import {
	bufferReader,
	probeImage,
	streamReader,
	type ImageByteReader,
	type ImageProbe,
} from '../nodes/AlibabaWan/images/probeImage';
import { decodePng, flattenPng } from '../nodes/AlibabaWan/images/flattenPng';
import { alphaInUse, decodeMaskedBmp } from '../nodes/AlibabaWan/images/decodeBmp';

// ------------------------------------------------------------------------------------ fixture builders

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
function crc32(buf: Buffer): number {
	let c = 0xffffffff;
	for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([len, body, crc]);
}

const ADAM7 = [
	[0, 0, 8, 8],
	[4, 0, 8, 8],
	[0, 4, 4, 8],
	[2, 0, 4, 4],
	[0, 2, 2, 4],
	[1, 0, 2, 2],
	[0, 1, 1, 2],
];

/**
 * Hand-built 8-bit PNG (any colour type, optional Adam7 interlacing, PLTE/tRNS), filter type 0.
 * `pixels[y][x]` holds the raw samples of one pixel (1 index for palette, 3 for RGB, …).
 */
function buildPng(opts: {
	width: number;
	height: number;
	colorType: 0 | 2 | 3 | 4 | 6;
	pixels: number[][][];
	interlace?: boolean;
	palette?: Array<[number, number, number]>;
	trns?: number[];
	extraBeforeIdat?: Buffer[];
}): Buffer {
	const { width, height, colorType, pixels } = opts;
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = colorType;
	ihdr[12] = opts.interlace ? 1 : 0;
	const passes = opts.interlace ? ADAM7 : [[0, 0, 1, 1]];
	const raw: number[] = [];
	for (const [x0, y0, dx, dy] of passes) {
		for (let y = y0; y < height; y += dy) {
			if (x0 >= width) break;
			raw.push(0);
			for (let x = x0; x < width; x += dx) raw.push(...pixels[y][x]);
		}
	}
	const chunks = [pngChunk('IHDR', ihdr)];
	if (opts.palette) chunks.push(pngChunk('PLTE', Buffer.from(opts.palette.flat())));
	if (opts.trns) chunks.push(pngChunk('tRNS', Buffer.from(opts.trns)));
	chunks.push(...(opts.extraBeforeIdat ?? []));
	chunks.push(pngChunk('IDAT', deflateSync(Buffer.from(raw))), pngChunk('IEND', Buffer.alloc(0)));
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

function pngjsImage(width: number, height: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16 = 8): Buffer {
	const png = new PNG({ width, height });
	for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff;
	return PNG.sync.write(png, { colorType, bitDepth, inputHasAlpha: true });
}

function segment(marker: number, payload: Buffer): Buffer {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(payload.length + 2, 2);
	return Buffer.concat([head, payload]);
}

/** SOI, APP segments, DQT, (fill bytes), SOFn, DHT, SOS, fake entropy data, EOI. */
function buildJpeg(opts: { width: number; height: number; sof?: number; appSegments?: Buffer[]; scanBytes?: number }): Buffer {
	const sof = Buffer.from([8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
	sof.writeUInt16BE(opts.height, 1);
	sof.writeUInt16BE(opts.width, 3);
	return Buffer.concat([
		Buffer.from([0xff, 0xd8]),
		...(opts.appSegments ?? [segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'))]),
		segment(0xdb, Buffer.alloc(65, 1)),
		Buffer.from([0xff, 0xff, 0xff]), // fill bytes before the next marker
		segment(opts.sof ?? 0xc0, sof),
		segment(0xc4, Buffer.alloc(30, 2)),
		segment(0xda, Buffer.from([3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0])),
		Buffer.alloc(opts.scanBytes ?? 100, 0x5a),
		Buffer.from([0xff, 0xd9]),
	]);
}

/** A 65 533-byte APP segment (the maximum), e.g. one chunk of an ICC profile or a big EXIF thumbnail. */
function bigApp(marker: number, fill: number): Buffer {
	// Include 0xFF bytes inside the payload: they must be skipped by length, not scanned as markers.
	return segment(marker, Buffer.alloc(65533, fill));
}

function exifOrientation6(): Buffer {
	// "Exif\0\0" + little-endian TIFF with one IFD entry: Orientation (0x0112) SHORT = 6 (rotate 90° CW).
	const tiff = Buffer.from([
		0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
	]);
	return segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));
}

function buildBmp(opts: {
	width: number;
	height: number;
	bitCount: number;
	dibSize?: number;
	compression?: number;
	alphaMask?: number;
}): Buffer {
	const dibSize = opts.dibSize ?? 40;
	const masks = opts.compression === 6 && dibSize === 40 ? 16 : 0; // BI_ALPHABITFIELDS masks after INFO
	const pixelOffset = 14 + dibSize + masks;
	const out = Buffer.alloc(pixelOffset + 16);
	out.write('BM', 0, 'latin1');
	out.writeUInt32LE(out.length, 2);
	out.writeUInt32LE(pixelOffset, 10);
	out.writeUInt32LE(dibSize, 14);
	if (dibSize === 12) {
		out.writeUInt16LE(opts.width, 18);
		out.writeUInt16LE(opts.height, 20);
		out.writeUInt16LE(1, 22);
		out.writeUInt16LE(opts.bitCount, 24);
		return out;
	}
	out.writeInt32LE(opts.width, 18);
	out.writeInt32LE(opts.height, 22);
	out.writeUInt16LE(1, 26);
	out.writeUInt16LE(opts.bitCount, 28);
	out.writeUInt32LE(opts.compression ?? 0, 30);
	if (dibSize >= 56 || masks) {
		out.writeUInt32LE(0x00ff0000, 54);
		out.writeUInt32LE(0x0000ff00, 58);
		out.writeUInt32LE(0x000000ff, 62);
		out.writeUInt32LE(opts.alphaMask ?? 0, 66);
	}
	return out;
}

function riffWebp(fourCC: string, data: Buffer): Buffer {
	const chunkHead = Buffer.alloc(8);
	chunkHead.write(fourCC, 0, 'latin1');
	chunkHead.writeUInt32LE(data.length, 4);
	const pad = data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0);
	const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), chunkHead, data, pad]);
	const riff = Buffer.alloc(8);
	riff.write('RIFF', 0, 'latin1');
	riff.writeUInt32LE(body.length, 4);
	return Buffer.concat([riff, body]);
}

function webpLossy(width: number, height: number): Buffer {
	// Frame tag: key frame (bit0 = 0), version 0, show_frame = 1, first partition size 0x10.
	const frame = Buffer.alloc(30);
	const tag = (0x10 << 5) | (1 << 4);
	frame[0] = tag & 0xff;
	frame[1] = (tag >> 8) & 0xff;
	frame[2] = (tag >> 16) & 0xff;
	frame.set([0x9d, 0x01, 0x2a], 3);
	frame.writeUInt16LE(width | (1 << 14), 6); // horizontal scale bits set: must be masked off
	frame.writeUInt16LE(height | (2 << 14), 8);
	return riffWebp('VP8 ', frame);
}

function webpLossless(width: number, height: number, alpha: boolean): Buffer {
	const data = Buffer.alloc(10);
	data[0] = 0x2f;
	// Bit packing in a 32-bit little-endian word: 14 bits width-1, 14 bits height-1, alpha, 3-bit version 0.
	const bits = ((width - 1) | ((height - 1) << 14) | ((alpha ? 1 : 0) << 28)) >>> 0;
	data.writeUInt32LE(bits, 1);
	return riffWebp('VP8L', data);
}

function webpExtended(width: number, height: number, alpha: boolean): Buffer {
	const data = Buffer.alloc(10);
	data[0] = alpha ? 0x10 : 0x08; // Alpha flag, or only EXIF
	data.writeUIntLE(width - 1, 4, 3);
	data.writeUIntLE(height - 1, 7, 3);
	// A real file has further chunks (ALPH/VP8 …); the probe must not need them.
	return Buffer.concat([riffWebp('VP8X', data), Buffer.alloc(40)]);
}

function ftyp(major: string, compatible: string[]): Buffer {
	const box = Buffer.alloc(16 + 4 * compatible.length + 32);
	box.writeUInt32BE(16 + 4 * compatible.length, 0);
	box.write('ftyp', 4, 'latin1');
	box.write(major, 8, 'latin1');
	compatible.forEach((b, i) => box.write(b, 16 + 4 * i, 'latin1'));
	return box;
}

/** A chunked async source that records how far it was pulled. */
function chunkedSource(data: Buffer, chunkSize: number, stats = { opens: 0, pulled: 0, closed: 0 }) {
	const open = async function* () {
		stats.opens++;
		try {
			for (let at = 0; at < data.length; at += chunkSize) {
				const chunk = new Uint8Array(data.subarray(at, at + chunkSize)); // fresh copy, like a file stream
				stats.pulled += chunk.length;
				yield chunk;
			}
		} finally {
			stats.closed++;
		}
	};
	return { open, stats };
}

async function probeBoth(data: Buffer): Promise<ImageProbe> {
	const viaBuffer = await probeImage(bufferReader(data));
	const viaStream = await probeImage(streamReader(chunkedSource(data, 7).open, data.length));
	expect(viaStream).toEqual(viaBuffer);
	return viaBuffer;
}

// -------------------------------------------------------------------------------------------- tests

describe('probeImage: PNG', () => {
	it.each([
		[0, 8, false],
		[2, 8, false],
		[4, 8, true],
		[6, 8, true],
		[2, 16, false],
		[6, 16, true],
	] as const)('pngjs colour type %i, %i-bit → hasAlpha %s', async (colorType, bitDepth, hasAlpha) => {
		const data = pngjsImage(7, 5, colorType, bitDepth);
		expect(await probeBoth(data)).toEqual({
			format: 'png',
			mimeType: 'image/png',
			width: 7,
			height: 5,
			hasAlpha,
			fileSize: data.length,
		});
	});

	const grid = (w: number, h: number, px: (x: number, y: number) => number[]) =>
		Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => px(x, y)));

	it('palette with tRNS → hasAlpha, palette without → opaque', async () => {
		const pixels = grid(3, 2, (x) => [x % 2]);
		const palette: Array<[number, number, number]> = [
			[255, 0, 0],
			[0, 0, 255],
		];
		const withTrns = buildPng({ width: 3, height: 2, colorType: 3, pixels, palette, trns: [255, 0] });
		const without = buildPng({ width: 3, height: 2, colorType: 3, pixels, palette });
		expect(PNG.sync.read(withTrns).data.subarray(0, 8)).toEqual(Buffer.from([255, 0, 0, 255, 0, 0, 255, 0]));
		expect(await probeBoth(withTrns)).toMatchObject({ width: 3, height: 2, hasAlpha: true });
		expect(await probeBoth(without)).toMatchObject({ width: 3, height: 2, hasAlpha: false });
	});

	it('RGB with a tRNS colour key → hasAlpha; tRNS is found after large ancillary chunks', async () => {
		const pixels = grid(2, 2, () => [1, 2, 3]);
		const iccp = pngChunk('iTXt', Buffer.alloc(300_000, 0x41));
		const data = buildPng({ width: 2, height: 2, colorType: 2, pixels, trns: [0, 1, 0, 2, 0, 3], extraBeforeIdat: [iccp] });
		expect(await probeBoth(data)).toMatchObject({ hasAlpha: true });
	});

	it('interlaced (Adam7) PNG', async () => {
		const data = buildPng({ width: 9, height: 10, colorType: 2, interlace: true, pixels: grid(9, 10, (x, y) => [x, y, 0]) });
		expect(PNG.sync.read(data)).toMatchObject({ width: 9, height: 10, interlace: true });
		expect(await probeBoth(data)).toMatchObject({ format: 'png', width: 9, height: 10, hasAlpha: false });
	});

	it('truncated PNGs throw', async () => {
		const data = buildPng({ width: 2, height: 2, colorType: 2, pixels: grid(2, 2, () => [0, 0, 0]) });
		await expect(probeImage(bufferReader(data.subarray(0, 20)))).rejects.toThrow('truncated PNG header');
		// Header intact but cut before any IDAT: we cannot tell whether a tRNS follows.
		await expect(probeImage(bufferReader(data.subarray(0, 40)))).rejects.toThrow(/truncated PNG/);
	});
});

describe('probeImage: JPEG', () => {
	it('baseline JPEG with fill bytes', async () => {
		const data = buildJpeg({ width: 640, height: 480 });
		expect(await probeBoth(data)).toEqual({
			format: 'jpeg',
			mimeType: 'image/jpeg',
			width: 640,
			height: 480,
			hasAlpha: false,
			fileSize: data.length,
		});
	});

	it('progressive (SOF2) and other SOFn markers', async () => {
		for (const sof of [0xc1, 0xc2, 0xc3, 0xc5, 0xc9, 0xcf]) {
			expect(await probeBoth(buildJpeg({ width: 1234, height: 567, sof }))).toMatchObject({ width: 1234, height: 567 });
		}
	});

	it('EXIF orientation does not swap the stored size', async () => {
		const data = buildJpeg({ width: 4000, height: 3000, appSegments: [exifOrientation6()] });
		expect(await probeBoth(data)).toMatchObject({ width: 4000, height: 3000 });
	});

	it('reads a JPEG with > 200 KB of APP1/APP2 before SOF through a chunked stream, without buffering it', async () => {
		const apps = [bigApp(0xe1, 0xff), bigApp(0xe2, 0xd9), bigApp(0xe2, 0xc0), bigApp(0xe2, 0x00)];
		const data = buildJpeg({ width: 3000, height: 2000, appSegments: apps, scanBytes: 2_000_000 });
		const sofOffset = data.indexOf(Buffer.from([0xff, 0xc0, 0x00, 0x11]));
		expect(sofOffset).toBeGreaterThan(200_000);

		const chunk = 16 * 1024;
		const { open, stats } = chunkedSource(data, chunk);
		const base = streamReader(open, data.length);
		const reads: number[] = [];
		const reader: ImageByteReader = {
			size: base.size,
			read: async (offset, length) => {
				const out = await base.read(offset, length);
				reads.push(out.length);
				return out;
			},
			close: base.close,
		};
		expect(await probeImage(reader)).toMatchObject({ format: 'jpeg', width: 3000, height: 2000, fileSize: data.length });
		expect(Math.max(...reads)).toBeLessThanOrEqual(32); // only tiny header reads
		expect(stats.opens).toBe(1); // forward-only: never re-opened
		expect(stats.pulled).toBeLessThanOrEqual(sofOffset + 2 * chunk); // stopped right after the SOF
		expect(stats.closed).toBe(1); // probeImage released the stream
	});

	it('truncated or corrupt JPEGs throw', async () => {
		const data = buildJpeg({ width: 10, height: 10 });
		const sof = data.indexOf(Buffer.from([0xff, 0xc0]));
		await expect(probeImage(bufferReader(data.subarray(0, sof)))).rejects.toThrow(/truncated JPEG/);
		await expect(probeImage(bufferReader(data.subarray(0, sof + 6)))).rejects.toThrow(/truncated JPEG/);
		const noSof = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2, 0xff, 0xd9]);
		await expect(probeImage(bufferReader(noSof))).rejects.toThrow(/corrupt JPEG/);
		const junk = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]), Buffer.from('garbage')]);
		await expect(probeImage(bufferReader(junk))).rejects.toThrow(/corrupt JPEG: expected a marker/);
	});
});

describe('probeImage: BMP', () => {
	it('positive (bottom-up) and negative (top-down) height', async () => {
		const up = buildBmp({ width: 300, height: 200, bitCount: 24 });
		const down = buildBmp({ width: 300, height: -200, bitCount: 24 });
		for (const data of [up, down]) {
			expect(await probeBoth(data)).toEqual({
				format: 'bmp',
				mimeType: 'image/bmp',
				width: 300,
				height: 200,
				hasAlpha: false,
				fileSize: data.length,
			});
		}
	});

	it('alpha only from an explicit alpha mask', async () => {
		const cases: Array<[Parameters<typeof buildBmp>[0], boolean]> = [
			[{ width: 4, height: 4, bitCount: 32 }, false], // BI_RGB: 4th byte unused
			[{ width: 4, height: 4, bitCount: 32, dibSize: 124, compression: 3, alphaMask: 0xff000000 }, true], // V5
			[{ width: 4, height: 4, bitCount: 32, dibSize: 108, compression: 3, alphaMask: 0 }, false], // V4, no alpha
			[{ width: 4, height: 4, bitCount: 32, dibSize: 40, compression: 6, alphaMask: 0xff000000 }, true], // ALPHABITFIELDS
			[{ width: 4, height: 4, bitCount: 24, dibSize: 124, compression: 0 }, false],
		];
		for (const [opts, hasAlpha] of cases) {
			expect(await probeBoth(buildBmp(opts))).toMatchObject({ width: 4, height: 4, hasAlpha });
		}
	});

	it('OS/2 BITMAPCOREHEADER', async () => {
		expect(await probeBoth(buildBmp({ width: 640, height: 480, bitCount: 24, dibSize: 12 }))).toMatchObject({
			format: 'bmp',
			width: 640,
			height: 480,
		});
	});

	it('truncated BMP throws', async () => {
		await expect(probeImage(bufferReader(buildBmp({ width: 1, height: 1, bitCount: 24 }).subarray(0, 20)))).rejects.toThrow(
			'truncated BMP header',
		);
	});
});

describe('probeImage: WebP', () => {
	it('VP8 (lossy): 14-bit dimensions, scale bits ignored', async () => {
		const data = webpLossy(1920, 1080);
		expect(await probeBoth(data)).toEqual({
			format: 'webp',
			mimeType: 'image/webp',
			width: 1920,
			height: 1080,
			hasAlpha: false,
			fileSize: data.length,
		});
	});

	it('VP8L (lossless): dimensions and alpha_is_used', async () => {
		expect(await probeBoth(webpLossless(16384, 1, true))).toMatchObject({ width: 16384, height: 1, hasAlpha: true });
		expect(await probeBoth(webpLossless(500, 333, false))).toMatchObject({ width: 500, height: 333, hasAlpha: false });
	});

	it('VP8X (extended): 24-bit canvas size and alpha flag', async () => {
		expect(await probeBoth(webpExtended(20000, 8000, true))).toMatchObject({ width: 20000, height: 8000, hasAlpha: true });
		expect(await probeBoth(webpExtended(1, 1, false))).toMatchObject({ width: 1, height: 1, hasAlpha: false });
	});

	it('truncated WebP throws', async () => {
		await expect(probeImage(bufferReader(webpLossy(10, 10).subarray(0, 24)))).rejects.toThrow('truncated WebP header');
	});
});

describe('probeImage: detected-only formats and garbage', () => {
	it('GIF, TIFF, HEIC, AVIF are named', async () => {
		const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0x40, 0x01, 0xf0, 0x00]), Buffer.alloc(20)]);
		expect(await probeBoth(gif)).toMatchObject({ format: 'gif', mimeType: 'image/gif', width: 320, height: 240 });
		const tiffLE = Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0]), Buffer.alloc(40)]);
		const tiffBE = Buffer.concat([Buffer.from([0x4d, 0x4d, 0, 0x2a]), Buffer.alloc(40)]);
		expect(await probeBoth(tiffLE)).toMatchObject({ format: 'tiff', mimeType: 'image/tiff' });
		expect(await probeBoth(tiffBE)).toMatchObject({ format: 'tiff' });
		expect(await probeBoth(ftyp('heic', ['mif1', 'heic']))).toMatchObject({ format: 'heic', mimeType: 'image/heic' });
		expect(await probeBoth(ftyp('avif', ['mif1', 'miaf']))).toMatchObject({ format: 'avif', mimeType: 'image/avif' });
		// Generic HEIF major brand with AVIF among the compatible brands (beyond the first 32 bytes).
		expect(await probeBoth(ftyp('mif1', ['mif1', 'miaf', 'MA1B', 'iso8', 'avif']))).toMatchObject({ format: 'avif' });
		expect(await probeBoth(ftyp('mif1', ['mif1', 'heic']))).toMatchObject({ format: 'heic' });
	});

	it('octet-stream garbage, empty files and other containers are rejected clearly', async () => {
		const garbage = Buffer.from('%PDF-1.7 this is not an image at all........', 'latin1');
		await expect(probeImage(bufferReader(garbage))).rejects.toThrow(/^not a recognised image: .*25 50 44 46/);
		await expect(probeImage(bufferReader(Buffer.alloc(0)))).rejects.toThrow('not a recognised image: the file is empty');
		await expect(probeImage(bufferReader(ftyp('isom', ['mp41'])))).rejects.toThrow(/not a recognised image/);
		await expect(probeImage(bufferReader(Buffer.from([0xff, 0xd8])))).rejects.toThrow(/not a recognised image/);
		// Text that merely starts with "BM" is not a bitmap.
		await expect(probeImage(bufferReader(Buffer.from('BMW owners manual, chapter one ...')))).rejects.toThrow(
			/not a recognised image/,
		);
	});
});

describe('streamReader', () => {
	it('returns the same bytes as bufferReader for arbitrary forward and backward reads', async () => {
		const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
		const { open, stats } = chunkedSource(data, 333);
		const reader = streamReader(open, data.length);
		const plan: Array<[number, number]> = [
			[0, 10],
			[5, 10], // overlaps the previous read
			[1000, 50],
			[1330, 10], // straddles a chunk boundary
			[4990, 100], // past EOF: fewer bytes
			[100, 20], // backwards: re-opens
			[6000, 10], // beyond size: empty
		];
		for (const [offset, length] of plan) {
			expect(await reader.read(offset, length)).toEqual(data.subarray(offset, offset + length));
		}
		expect(stats.opens).toBe(2);
		await reader.close?.();
		expect(stats.closed).toBe(2);
	});

	it('accepts a promise of a stream and plain Uint8Array chunks', async () => {
		const data = buildJpeg({ width: 33, height: 44 });
		const reader = streamReader(async () => chunkedSource(data, 5).open(), data.length);
		expect(await probeImage(reader)).toMatchObject({ width: 33, height: 44 });
	});
});

// ------------------------------------------------------------------------------------------ flattenPng

describe('flattenPng', () => {
	const rgbaPixels = [
		[255, 0, 0, 128], // half-transparent red
		[0, 0, 255, 0], // fully transparent blue
		[10, 20, 30, 255], // opaque
		[0, 255, 0, 64], // mostly transparent green
		[200, 100, 0, 100],
		[1, 2, 3, 1],
	];

	function rgbaPng(): Buffer {
		const png = new PNG({ width: 3, height: 2 });
		png.data = Buffer.from(rgbaPixels.flat());
		return PNG.sync.write(png);
	}

	function pixelsOf(data: Buffer): number[][] {
		const decoded = PNG.sync.read(data);
		return Array.from({ length: decoded.width * decoded.height }, (_, p) =>
			Array.from(decoded.data.subarray(p * 4, p * 4 + 4)),
		);
	}

	it('composites onto white with exact rounding and re-encodes as opaque RGB', async () => {
		const out = await flattenPng(rgbaPng());
		// round((a·fg + (255 − a)·255) / 255)
		expect(pixelsOf(out)).toEqual([
			[255, 127, 127, 255],
			[255, 255, 255, 255],
			[10, 20, 30, 255],
			[191, 255, 191, 255],
			[233, 194, 155, 255], // (100·200 + 155·255)/255 = 233.43; (100·100+155·255)/255 = 194.2; 155
			[254, 254, 254, 255], // (1·1 + 254·255)/255 = 254.0
		]);
		expect(out[25]).toBe(2); // IHDR colour type: truecolour, no alpha
		expect(await probeImage(bufferReader(out))).toMatchObject({ format: 'png', width: 3, height: 2, hasAlpha: false });
	});

	it('uses a custom background', async () => {
		const out = await flattenPng(rgbaPng(), { r: 0, g: 0, b: 0 });
		expect(pixelsOf(out).slice(0, 4)).toEqual([
			[128, 0, 0, 255],
			[0, 0, 0, 255],
			[10, 20, 30, 255],
			[0, 64, 0, 255],
		]);
		await expect(flattenPng(rgbaPng(), { r: 256, g: 0, b: 0 })).rejects.toThrow(/background\.r/);
	});

	it('handles palette + tRNS, grey + alpha 16-bit and interlaced inputs', async () => {
		const grid = (w: number, h: number, px: (x: number, y: number) => number[]) =>
			Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => px(x, y)));

		const palette = buildPng({
			width: 2,
			height: 1,
			colorType: 3,
			pixels: [[[0], [1]]],
			palette: [
				[0, 0, 0],
				[100, 50, 0],
			],
			trns: [0, 51], // index 0 fully transparent, index 1 at alpha 51 (20 %)
		});
		// index 1: (51·100 + 204·255)/255 = 224; (51·50 + 204·255)/255 = 214; 204
		expect(pixelsOf(await flattenPng(palette))).toEqual([
			[255, 255, 255, 255],
			[224, 214, 204, 255],
		]);

		const grey16 = pngjsImage(5, 4, 4, 16);
		const out16 = await flattenPng(grey16);
		expect(await probeImage(bufferReader(out16))).toMatchObject({ width: 5, height: 4, hasAlpha: false });

		const interlaced = buildPng({
			width: 9,
			height: 9,
			colorType: 6,
			interlace: true,
			pixels: grid(9, 9, (x, y) => [x * 20, y * 20, 0, x === y ? 0 : 255]),
		});
		const flat = pixelsOf(await flattenPng(interlaced));
		expect(flat[0]).toEqual([255, 255, 255, 255]); // (0,0) transparent
		expect(flat[1]).toEqual([20, 0, 0, 255]); // (1,0) opaque
		expect(flat[9 * 8 + 7]).toEqual([140, 160, 0, 255]); // (7,8)
		expect(flat[9 * 8 + 8]).toEqual([255, 255, 255, 255]); // (8,8) transparent
	});

	it('keeps opaque images identical and rejects non-PNG input', async () => {
		const png = new PNG({ width: 2, height: 1 });
		png.data = Buffer.from([1, 2, 3, 255, 4, 5, 6, 255]);
		expect(pixelsOf(await flattenPng(PNG.sync.write(png)))).toEqual([
			[1, 2, 3, 255],
			[4, 5, 6, 255],
		]);
		await expect(flattenPng(Buffer.from('not a png'))).rejects.toThrow(/cannot decode PNG/);
	});
});

// ------------------------------------------------------------------------------------------ decodePng

describe('decodePng: every decoder error settles the promise', () => {
	/** Settles, or reports a hang after `ms` (the old decoder left the promise pending for ever). */
	async function outcome(data: Buffer, ms = 2000): Promise<'decoded' | 'error' | 'hang'> {
		let timer: NodeJS.Timeout | undefined;
		const hang = new Promise<'hang'>((resolve) => {
			timer = setTimeout(() => resolve('hang'), ms);
		});
		const result = await Promise.race([decodePng(data).then(() => 'decoded' as const, () => 'error' as const), hang]);
		clearTimeout(timer);
		return result;
	}

	function rgba(width: number, height: number, interlace = false): Buffer {
		return buildPng({
			width,
			height,
			colorType: 6,
			interlace,
			pixels: Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => [x, y, 7, x % 2 ? 255 : 0])),
		});
	}

	it('image data with fewer rows than the header declares is an error, not a hang (plain and interlaced)', async () => {
		for (const interlace of [false, true]) {
			const full = rgba(40, 30, interlace);
			const short = rgba(40, 10, interlace);
			// The short image's chunks under the full image's IHDR (height 30; CRC recomputed).
			const ihdr = Buffer.from(full.subarray(16, 29));
			const lying = Buffer.concat([full.subarray(0, 8), pngChunk('IHDR', ihdr), short.subarray(33)]);
			await expect(decodePng(lying)).rejects.toThrow(/cannot decode PNG/);
		}
	});

	it('a PNG cut at any of 200 points settles with an error, and nothing escapes as an uncaught exception', async () => {
		const full = rgba(64, 48);
		const uncaught: unknown[] = [];
		const listener = (error: unknown) => uncaught.push(error);
		process.on('uncaughtException', listener);
		try {
			const counts = { decoded: 0, error: 0, hang: 0 };
			for (let i = 0; i < 200; i++) {
				const cut = 8 + Math.floor(((full.length - 9) * i) / 199);
				counts[await outcome(full.subarray(0, cut))]++;
			}
			expect(counts.hang).toBe(0);
			expect(counts.error).toBe(200);
		} finally {
			process.off('uncaughtException', listener);
		}
		expect(uncaught).toEqual([]);
	});
});

// ------------------------------------------------------------------------------------------ decodeBmp

describe('decodeMaskedBmp and alphaInUse', () => {
	/** A 32-bit V5 BMP (BI_BITFIELDS) with the given ARGB pixels, rows listed top first. */
	function argbBmp(rows: number[][], topDown = false): Buffer {
		const height = rows.length;
		const width = rows[0].length;
		const out = buildBmp({ width, height: topDown ? -height : height, bitCount: 32, dibSize: 124, compression: 3, alphaMask: 0xff000000 });
		const header = out.subarray(0, 14 + 124);
		const pixels = Buffer.alloc(width * height * 4);
		rows.forEach((row, y) => row.forEach((argb, x) => pixels.writeUInt32LE(argb >>> 0, ((topDown ? y : height - 1 - y) * width + x) * 4)));
		return Buffer.concat([header, pixels]);
	}

	it('decodes masks, bottom-up and top-down rows to RGBA', () => {
		const rows = [
			[0xff102030, 0x80ff0000],
			[0x00000000, 0x7f00ff00],
		];
		for (const topDown of [false, true]) {
			const image = decodeMaskedBmp(argbBmp(rows, topDown));
			expect({ width: image.width, height: image.height }).toEqual({ width: 2, height: 2 });
			expect([...image.data]).toEqual([0x10, 0x20, 0x30, 0xff, 0xff, 0, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0, 0x7f]);
		}
	});

	it('decides transparency by the alpha values: all 255 or all 0 (unused) is opaque, anything else is not', () => {
		expect(alphaInUse(decodeMaskedBmp(argbBmp([[0xff000000, 0xffffffff]])))).toBe(false);
		expect(alphaInUse(decodeMaskedBmp(argbBmp([[0x00ffffff, 0x00000000]])))).toBe(false);
		expect(alphaInUse(decodeMaskedBmp(argbBmp([[0xffffffff, 0x00ffffff]])))).toBe(true);
		expect(alphaInUse(decodeMaskedBmp(argbBmp([[0xffffffff, 0xfeffffff]])))).toBe(true);
	});

	it('decodes 16-bit ARGB4444 masks, scaling each sample to 0–255, with rows padded to 4 bytes', () => {
		const header = Buffer.from(buildBmp({ width: 1, height: 1, bitCount: 16, dibSize: 124, compression: 3 }).subarray(0, 138));
		[0x0f00, 0x00f0, 0x000f, 0xf000].forEach((mask, i) => header.writeUInt32LE(mask, 54 + i * 4));
		const pixels = Buffer.alloc(4); // one 2-byte pixel + 2 bytes of row padding
		pixels.writeUInt16LE(0x8f3c, 0); // A 8, R f, G 3, B c
		expect([...decodeMaskedBmp(Buffer.concat([header, pixels])).data]).toEqual([255, 51, 204, 136]);
	});

	it('a BMP whose pixel data is cut short is an error naming both sizes', () => {
		const whole = argbBmp([[0xff000000, 0xff000000]]);
		expect(() => decodeMaskedBmp(whole.subarray(0, whole.length - 3))).toThrow(/truncated BMP: .* 2×1 px \(146 bytes\) but the file has 143 bytes/);
	});
});
