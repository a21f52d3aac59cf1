/**
 * Input-image inspection from the real bytes: format by magic number (JPEG/PNG/BMP/WEBP only),
 * pixel size from the headers, PNG alpha (colour type 4/6 or a tRNS chunk). Only headers are read:
 * enough for every documented check and fast for 20 MB inputs.
 */

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

export interface ImageInfo {
	format: ImageFormat;
	width: number;
	height: number;
	/** PNG with an alpha channel or transparency chunk. */
	hasAlpha: boolean;
}

export const MIME_BY_FORMAT: Record<ImageFormat, string> = {
	jpeg: 'image/jpeg',
	png: 'image/png',
	bmp: 'image/bmp',
	webp: 'image/webp',
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Returns the image info, 'unsupported' for a known non-accepted/unknown format, 'corrupt' for bad headers. */
export function inspectImage(buf: Buffer): ImageInfo | 'unsupported' | 'corrupt' {
	if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE)) return inspectPng(buf);
	if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return inspectJpeg(buf);
	if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return inspectBmp(buf);
	if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
		return inspectWebp(buf);
	}
	return 'unsupported';
}

function inspectPng(buf: Buffer): ImageInfo | 'corrupt' {
	if (buf.length < 33 || buf.toString('latin1', 12, 16) !== 'IHDR') return 'corrupt';
	const width = buf.readUInt32BE(16);
	const height = buf.readUInt32BE(20);
	const colorType = buf[25];
	if (width === 0 || height === 0 || ![0, 2, 3, 4, 6].includes(colorType)) return 'corrupt';
	let hasAlpha = colorType === 4 || colorType === 6;
	// Walk the chunks up to the first IDAT looking for tRNS (transparency for colour types 0/2/3).
	let offset = 8;
	while (!hasAlpha && offset + 8 <= buf.length) {
		const length = buf.readUInt32BE(offset);
		const type = buf.toString('latin1', offset + 4, offset + 8);
		if (type === 'tRNS') hasAlpha = true;
		if (type === 'IDAT' || type === 'IEND') break;
		offset += 12 + length;
	}
	return { format: 'png', width, height, hasAlpha };
}

function inspectJpeg(buf: Buffer): ImageInfo | 'corrupt' {
	let offset = 2;
	while (offset + 4 <= buf.length) {
		if (buf[offset] !== 0xff) return 'corrupt';
		const marker = buf[offset + 1];
		if (marker === 0xff) {
			offset += 1; // fill byte
			continue;
		}
		if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
			offset += 2; // stand-alone markers
			continue;
		}
		if (marker === 0xd9 || marker === 0xda) return 'corrupt'; // EOI/SOS before any frame header
		const length = buf.readUInt16BE(offset + 2);
		const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
		if (isSof) {
			if (offset + 9 > buf.length) return 'corrupt';
			const height = buf.readUInt16BE(offset + 5);
			const width = buf.readUInt16BE(offset + 7);
			if (width === 0 || height === 0) return 'corrupt';
			return { format: 'jpeg', width, height, hasAlpha: false };
		}
		if (length < 2) return 'corrupt';
		offset += 2 + length;
	}
	return 'corrupt';
}

function inspectBmp(buf: Buffer): ImageInfo | 'corrupt' {
	if (buf.length < 26) return 'corrupt';
	const dibSize = buf.readUInt32LE(14);
	let width: number;
	let height: number;
	if (dibSize === 12) {
		width = buf.readUInt16LE(18);
		height = buf.readUInt16LE(20);
	} else if (dibSize >= 40) {
		width = buf.readInt32LE(18);
		height = Math.abs(buf.readInt32LE(22)); // negative = top-down rows
	} else {
		return 'corrupt';
	}
	if (width <= 0 || height <= 0) return 'corrupt';
	return { format: 'bmp', width, height, hasAlpha: false };
}

function inspectWebp(buf: Buffer): ImageInfo | 'corrupt' {
	if (buf.length < 16) return 'corrupt';
	const chunk = buf.toString('latin1', 12, 16);
	if (buf.length < (chunk === 'VP8L' ? 25 : 30)) return 'corrupt';
	let width: number;
	let height: number;
	if (chunk === 'VP8 ') {
		if (buf[23] !== 0x9d || buf[24] !== 0x01 || buf[25] !== 0x2a) return 'corrupt';
		width = buf.readUInt16LE(26) & 0x3fff;
		height = buf.readUInt16LE(28) & 0x3fff;
	} else if (chunk === 'VP8L') {
		if (buf[20] !== 0x2f) return 'corrupt';
		const bits = buf.readUInt32LE(21);
		width = (bits & 0x3fff) + 1;
		height = ((bits >>> 14) & 0x3fff) + 1;
	} else if (chunk === 'VP8X') {
		width = 1 + buf.readUIntLE(24, 3);
		height = 1 + buf.readUIntLE(27, 3);
	} else {
		return 'corrupt';
	}
	if (width <= 0 || height <= 0) return 'corrupt';
	// Alpha is only documented as unsupported for PNG, so WEBP alpha is not flagged.
	return { format: 'webp', width, height, hasAlpha: false };
}

export interface DataUri {
	mime: string;
	bytes: Buffer;
}

/** Parses `data:{mime};base64,{data}`; returns a reason string when malformed. */
export function parseDataUri(value: string): DataUri | string {
	const comma = value.indexOf(',');
	if (comma < 0) return 'data URI has no comma';
	const header = value.slice(5, comma); // after 'data:'
	const params = header.split(';');
	const mime = params[0].trim().toLowerCase();
	if (!params.slice(1).some((p) => p.trim().toLowerCase() === 'base64')) return 'data URI must be base64 encoded';
	if (!mime) return 'data URI has no MIME type';
	const payload = value.slice(comma + 1);
	const invalid = 'data URI payload is not valid base64';
	const pad = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
	if (payload.length - pad === 0 || payload.length % 4 === 1 || (pad > 0 && payload.length % 4 !== 0)) return invalid;
	// Standard alphabet only (Node would also accept base64url '-' and '_').
	if (payload.includes('-') || payload.includes('_')) return invalid;
	const bytes = Buffer.from(payload, 'base64');
	// Node skips characters outside the alphabet (and stops at an inner '='): a short result means bad input.
	// (Much faster than a regex over a 27 MB string.)
	if (bytes.length !== Math.floor(((payload.length - pad) * 3) / 4)) return invalid;
	return { mime, bytes };
}

/** Pixel limits an emulator applies to an input image (each side, and the long:short ratio). */
export interface PictureLimits {
	minSide: number;
	maxSide: number;
	maxAspect: number;
}

/** Why `info` breaks the usual upstream rules (no PNG alpha, side range, aspect range), or undefined. */
export function pictureLimitViolation(info: ImageInfo, limits: PictureLimits): string | undefined {
	const { minSide, maxSide, maxAspect } = limits;
	if (info.hasAlpha) return 'PNG images with an alpha channel are not supported.';
	if (Math.min(info.width, info.height) < minSide || Math.max(info.width, info.height) > maxSide) {
		return `the image is ${info.width}x${info.height}; each side must be ${minSide} to ${maxSide} pixels.`;
	}
	const ratio = info.width / info.height;
	if (ratio > maxAspect || ratio < 1 / maxAspect) return `the aspect ratio ${info.width}:${info.height} is outside 1:${maxAspect} to ${maxAspect}:1.`;
	return undefined;
}
