/**
 * A tiny image header reader: format (by magic bytes, never by the declared MIME), stored pixel size,
 * and whether the image can carry transparency. It reads only the few bytes each format needs, through
 * a random-access reader, so a 20 MB JPEG with a large EXIF/ICC prefix is probed without buffering it.
 *
 * DashScope accepts JPEG, PNG (no alpha), BMP and WEBP (DASHSCOPE_API.md §4.4); GIF/TIFF/HEIC/AVIF are
 * detected only so that the caller's error can name what the user actually supplied.
 */

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp' | 'gif' | 'tiff' | 'heic' | 'avif' | 'unknown';

export interface ImageProbe {
	format: ImageFormat;
	/** `image/jpeg`, `image/png`, … or `application/octet-stream`. */
	mimeType: string;
	/** Stored size in pixels (0 when the format is only detected, not measured). */
	width: number;
	height: number;
	/** True when the image carries (or may carry) transparency. */
	hasAlpha: boolean;
	fileSize: number;
}

/** Random-access byte reader, so a 20 MB JPEG with a large EXIF/ICC prefix is probed without buffering the file. */
export interface ImageByteReader {
	readonly size: number;
	/** May return fewer bytes than asked at end of file. */
	read(offset: number, length: number): Promise<Buffer>;
	/**
	 * Optional (an addition to the original contract): release an open underlying stream. probeImage calls
	 * it when done, so a half-read file stream does not linger until garbage collection.
	 */
	close?(): Promise<void>;
}

const MIME_TYPES: Record<ImageFormat, string> = {
	jpeg: 'image/jpeg',
	png: 'image/png',
	bmp: 'image/bmp',
	webp: 'image/webp',
	gif: 'image/gif',
	tiff: 'image/tiff',
	heic: 'image/heic',
	avif: 'image/avif',
	unknown: 'application/octet-stream',
};

export function mimeTypeOf(format: ImageFormat): string {
	return MIME_TYPES[format];
}

export function bufferReader(buffer: Buffer): ImageByteReader {
	return {
		size: buffer.length,
		// subarray: no copy, and it naturally returns fewer bytes at EOF.
		read: async (offset, length) => buffer.subarray(offset, offset + length),
	};
}

function toBuffer(chunk: Uint8Array): Buffer {
	return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Forward-reading reader over a stream factory. Only the bytes from the current read offset up to the
 * end of the last received chunk are kept: chunks that lie wholly before the requested offset are
 * dropped as they arrive. A read before the kept window re-opens the stream (probing never needs it).
 */
export function streamReader(
	open: () => Promise<AsyncIterable<Uint8Array>> | AsyncIterable<Uint8Array>,
	size: number,
): ImageByteReader {
	let iterator: AsyncIterator<Uint8Array> | undefined;
	let windowStart = 0; // stream offset of window[0]
	let window: Buffer = Buffer.alloc(0);
	let ended = false;

	const close = async (): Promise<void> => {
		const it = iterator;
		iterator = undefined;
		windowStart = 0;
		window = Buffer.alloc(0);
		ended = false;
		// return() lets a Node stream destroy itself (closing the file descriptor).
		if (it?.return) await it.return();
	};

	const read = async (offset: number, length: number): Promise<Buffer> => {
		const end = Math.min(offset + length, size);
		if (offset >= end) return Buffer.alloc(0);
		if (iterator && offset < windowStart) await close();
		if (!iterator) {
			iterator = (await open())[Symbol.asyncIterator]();
		}
		// Drop what lies before the requested offset: reads only go forward.
		if (offset > windowStart) {
			const drop = Math.min(offset - windowStart, window.length);
			window = window.subarray(drop);
			windowStart += drop;
		}
		while (!ended && windowStart + window.length < end) {
			const next = await iterator.next();
			if (next.done) {
				ended = true;
				break;
			}
			const chunk = toBuffer(next.value);
			const chunkStart = windowStart + window.length;
			if (chunkStart + chunk.length <= offset) {
				// Entirely before what we want (e.g. inside a skipped EXIF block): discard.
				windowStart = chunkStart + chunk.length;
				continue;
			}
			const usable = chunkStart < offset ? chunk.subarray(offset - chunkStart) : chunk;
			if (window.length === 0) {
				windowStart = Math.max(chunkStart, offset);
				window = usable;
			} else {
				window = Buffer.concat([window, usable]);
			}
		}
		return window.subarray(offset - windowStart, end - windowStart);
	};

	return { size, read, close };
}

function notRecognised(head: Buffer): Error {
	if (head.length === 0) return new Error('not a recognised image: the file is empty');
	const hex = head.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
	return new Error(`not a recognised image: unknown file signature (first bytes ${hex})`);
}

function result(format: ImageFormat, width: number, height: number, hasAlpha: boolean, fileSize: number): ImageProbe {
	return { format, mimeType: MIME_TYPES[format], width, height, hasAlpha, fileSize };
}

export async function probeImage(reader: ImageByteReader): Promise<ImageProbe> {
	try {
		return await probe(reader);
	} finally {
		await reader.close?.();
	}
}

async function probe(reader: ImageByteReader): Promise<ImageProbe> {
	// 32 bytes covers every fixed header we decode (PNG IHDR: 29, WebP: 30) and every signature.
	const head = await reader.read(0, 32);
	const size = reader.size;
	const startsWith = (bytes: number[], at = 0) => bytes.every((b, i) => head[at + i] === b);

	if (startsWith([0xff, 0xd8, 0xff])) return probeJpeg(reader);
	if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return probePng(reader, head);
	// "BM" alone is weak (any text may start with it): also require a known DIB header size.
	if (startsWith([0x42, 0x4d]) && (head.length < 18 || BMP_DIB_SIZES.has(head.readUInt32LE(14)))) {
		return probeBmp(reader);
	}
	if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
		return probeWebp(head, size);
	}
	const text6 = head.toString('latin1', 0, 6);
	if (text6 === 'GIF87a' || text6 === 'GIF89a') {
		// The logical screen size is free to read; transparency is not determined (GIF is rejected anyway).
		const w = head.length >= 10 ? head.readUInt16LE(6) : 0;
		const h = head.length >= 10 ? head.readUInt16LE(8) : 0;
		return result('gif', w, h, false, size);
	}
	if (startsWith([0x49, 0x49, 0x2a, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2a])) {
		return result('tiff', 0, 0, false, size);
	}
	if (head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp') {
		const format = await isoBmffFormat(reader, head);
		if (format) return result(format, 0, 0, false, size);
	}
	throw notRecognised(head);
}

// ---------------------------------------------------------------------------------------------- JPEG

/** SOFn markers carrying frame dimensions: C0–C3, C5–C7, C9–CB, CD–CF (C4 DHT, C8 JPG, CC DAC are not). */
function isStartOfFrame(marker: number): boolean {
	return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Walks the marker segments up to the first SOFn, skipping APPn (EXIF, ICC, XMP…) by their lengths.
 * The size reported is the stored one: an EXIF orientation of 5–8 means viewers show it rotated by 90°,
 * but the pixel grid the API decodes (and validates) is the stored grid, so we do not swap.
 */
async function probeJpeg(reader: ImageByteReader): Promise<ImageProbe> {
	let pos = 2; // after SOI
	for (;;) {
		const block = await reader.read(pos, 16);
		if (block.length < 2) throw new Error('truncated JPEG: no frame header (SOFn) before end of file');
		if (block[0] !== 0xff) {
			throw new Error(`corrupt JPEG: expected a marker at offset ${pos}, found 0x${block[0].toString(16)}`);
		}
		// Any marker may be preceded by fill bytes (0xFF).
		let i = 1;
		while (i < block.length && block[i] === 0xff) i++;
		if (i === block.length) {
			pos += block.length - 1; // all fill so far: keep one 0xFF as the marker prefix
			continue;
		}
		const marker = block[i];
		const markerPos = pos + i - 1; // offset of the 0xFF right before the marker code
		if (marker === 0xd9) throw new Error('corrupt JPEG: end of image before any frame header (SOFn)');
		if (marker === 0xda) throw new Error('corrupt JPEG: scan data before any frame header (SOFn)');
		// Standalone markers (no length): TEM, RSTn, a stray SOI.
		if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
			pos = markerPos + 2;
			continue;
		}
		if (marker === 0x00) throw new Error(`corrupt JPEG: stuffed byte where a marker was expected at offset ${pos}`);
		// FF xx Lh Ll [P Yh Yl Xh Xl Nf] — 10 bytes is enough for both a length and an SOF body.
		const seg = await reader.read(markerPos, 10);
		if (seg.length < 4) throw new Error('truncated JPEG: segment header cut off');
		const length = seg.readUInt16BE(2);
		if (length < 2) throw new Error(`corrupt JPEG: invalid segment length ${length} at offset ${markerPos}`);
		if (isStartOfFrame(marker)) {
			if (seg.length < 10) throw new Error('truncated JPEG: frame header cut off');
			// Height 0 is legal (defined later by a DNL marker); reported as 0.
			return result('jpeg', seg.readUInt16BE(7), seg.readUInt16BE(5), false, reader.size);
		}
		pos = markerPos + 2 + length;
	}
}

// ----------------------------------------------------------------------------------------------- PNG

async function probePng(reader: ImageByteReader, head: Buffer): Promise<ImageProbe> {
	// Signature (8) + IHDR length/type (8) + IHDR data (13).
	if (head.length < 29 || head.toString('latin1', 12, 16) !== 'IHDR') throw new Error('truncated PNG header');
	const width = head.readUInt32BE(16);
	const height = head.readUInt32BE(20);
	const colorType = head[25];
	// 4 = grey + alpha, 6 = RGB + alpha: an alpha channel whatever the pixel values are.
	if (colorType === 4 || colorType === 6) return result('png', width, height, true, reader.size);

	// Otherwise transparency can only come from a tRNS chunk, which must precede the first IDAT.
	// (A tRNS whose entries are all opaque still counts: decoders such as PIL report transparency too.)
	let pos = 8 + 8 + head.readUInt32BE(8) + 4;
	for (;;) {
		const chunk = await reader.read(pos, 8);
		if (chunk.length < 8) throw new Error('truncated PNG: no image data (IDAT) before end of file');
		const type = chunk.toString('latin1', 4, 8);
		if (type === 'tRNS') return result('png', width, height, true, reader.size);
		if (type === 'IDAT' || type === 'IEND') return result('png', width, height, false, reader.size);
		pos += 12 + chunk.readUInt32BE(0); // length + type + data + CRC
	}
}

// ----------------------------------------------------------------------------------------------- BMP

/** CORE, OS/2 2.x (short and full), INFO, V2, V3, V4, V5. */
const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

async function probeBmp(reader: ImageByteReader): Promise<ImageProbe> {
	// File header (14) + the DIB header up to the alpha mask (offset 66, 4 bytes).
	const h = await reader.read(0, 70);
	if (h.length < 18) throw new Error('truncated BMP header');
	const dibSize = h.readUInt32LE(14);
	if (dibSize === 12) {
		// BITMAPCOREHEADER (OS/2 1.x): 16-bit unsigned dimensions, no alpha.
		if (h.length < 22) throw new Error('truncated BMP header');
		return result('bmp', h.readUInt16LE(18), h.readUInt16LE(20), false, reader.size);
	}
	if (h.length < 30) throw new Error('truncated BMP header');
	const width = h.readInt32LE(18);
	// A negative height means the rows are stored top-down; the size is its absolute value.
	const height = Math.abs(h.readInt32LE(22));
	if (width < 0) throw new Error(`corrupt BMP: negative width ${width}`);
	const bitCount = h.readUInt16LE(28);
	const compression = dibSize >= 40 && h.length >= 34 ? h.readUInt32LE(30) : 0;

	// Alpha is determinable only from an explicit alpha mask: in a V3+ header (BITFIELDS), or right after a
	// 40-byte INFO header with BI_ALPHABITFIELDS. Both put it at file offset 66. OS/2 2.x headers (16/64
	// bytes) reuse compression values differently, so they are treated as opaque. Plain 32-bit BI_RGB has
	// an unused 4th byte (decoders read it as RGBX), so it is opaque too.
	let hasAlpha = false;
	const masked =
		(dibSize >= 56 && (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS)) ||
		(dibSize === 40 && compression === BI_ALPHABITFIELDS);
	if ((bitCount === 32 || bitCount === 16) && masked) {
		if (h.length < 70) throw new Error('truncated BMP header');
		hasAlpha = h.readUInt32LE(66) !== 0;
	}
	return result('bmp', width, height, hasAlpha, reader.size);
}

// ---------------------------------------------------------------------------------------------- WebP

function probeWebp(head: Buffer, size: number): ImageProbe {
	if (head.length < 30) throw new Error('truncated WebP header');
	const chunk = head.toString('latin1', 12, 16);
	if (chunk === 'VP8 ') {
		// Simple lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit width/height (top 2 bits: scale).
		if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) {
			throw new Error('corrupt WebP: missing VP8 start code');
		}
		return result('webp', head.readUInt16LE(26) & 0x3fff, head.readUInt16LE(28) & 0x3fff, false, size);
	}
	if (chunk === 'VP8L') {
		// Simple lossless: signature 0x2F, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used, 3 bits version.
		if (head[20] !== 0x2f) throw new Error('corrupt WebP: missing VP8L signature');
		const bits = head.readUInt32LE(21);
		const width = (bits & 0x3fff) + 1;
		const height = ((bits >>> 14) & 0x3fff) + 1;
		const hasAlpha = ((bits >>> 28) & 1) === 1;
		return result('webp', width, height, hasAlpha, size);
	}
	if (chunk === 'VP8X') {
		// Extended: flags byte (Rsv:2 ICC:1 Alpha:1 EXIF:1 XMP:1 Anim:1 Rsv:1), 3 reserved bytes,
		// then 24-bit canvas width-1 and height-1.
		const hasAlpha = (head[20] & 0x10) !== 0;
		const width = head.readUIntLE(24, 3) + 1;
		const height = head.readUIntLE(27, 3) + 1;
		return result('webp', width, height, hasAlpha, size);
	}
	throw new Error(`corrupt WebP: unknown first chunk "${chunk}"`);
}

// ------------------------------------------------------------------------------------- HEIC / AVIF

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

/** ISO-BMFF `ftyp`: the major brand, then compatible brands (generic `mif1` files name `avif` there). */
async function isoBmffFormat(reader: ImageByteReader, head: Buffer): Promise<ImageFormat | undefined> {
	const boxSize = Math.min(head.readUInt32BE(0), 64);
	const box = boxSize > head.length ? await reader.read(0, boxSize) : head.subarray(0, Math.max(boxSize, 12));
	const brands = [box.toString('latin1', 8, 12)];
	for (let at = 16; at + 4 <= Math.min(boxSize, box.length); at += 4) brands.push(box.toString('latin1', at, at + 4));
	if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
	if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
	return undefined;
}
