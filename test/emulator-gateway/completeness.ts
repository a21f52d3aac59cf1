/**
 * Whether an input file is complete, beyond its headers (the shared inspectImage reads only those):
 * a truncated upload or a cut-off download must fail here rather than pass as a valid picture.
 * - PNG: every chunk fits, IEND closes the file, and the IDAT stream inflates to exactly the pixel
 *   rows the header announces (non-interlaced; interlaced files need only inflate);
 * - JPEG: an end-of-image marker after the start of the scan;
 * - BMP (uncompressed): the pixel rows the header announces are present;
 * - WEBP: the RIFF size the header announces is present.
 */
import zlib from 'node:zlib';

import type { ImageInfo } from '../emulator/images';

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Undefined when complete, else why not. */
export function incompleteness(bytes: Buffer, info: ImageInfo): string | undefined {
	if (info.format === 'png') return pngProblem(bytes, info);
	if (info.format === 'jpeg') {
		const scan = bytes.indexOf(Buffer.from([0xff, 0xda]));
		return scan >= 0 && bytes.lastIndexOf(Buffer.from([0xff, 0xd9])) > scan ? undefined : 'the JPEG file is truncated (no end-of-image marker after the scan).';
	}
	if (info.format === 'webp') {
		return bytes.readUInt32LE(4) + 8 <= bytes.length ? undefined : 'the WEBP file is truncated (shorter than its RIFF header says).';
	}
	const compression = bytes.length >= 34 ? bytes.readUInt32LE(30) : -1;
	if (compression !== 0) return undefined; // compressed or OS/2 BMPs: headers only
	const rowBytes = Math.ceil((info.width * bytes.readUInt16LE(28)) / 32) * 4;
	return bytes.readUInt32LE(10) + rowBytes * info.height <= bytes.length ? undefined : 'the BMP file is truncated (fewer pixel rows than its header says).';
}

function pngProblem(bytes: Buffer, info: ImageInfo): string | undefined {
	const idat: Buffer[] = [];
	let offset = 8;
	let ended = false;
	while (offset + 12 <= bytes.length) {
		const length = bytes.readUInt32BE(offset);
		const type = bytes.toString('latin1', offset + 4, offset + 8);
		if (offset + 12 + length > bytes.length) break;
		if (type === 'IDAT') idat.push(bytes.subarray(offset + 8, offset + 8 + length));
		offset += 12 + length;
		if (type === 'IEND') {
			ended = true;
			break;
		}
	}
	if (!ended) return 'the PNG file is truncated (no complete IEND chunk).';
	const bitDepth = bytes[24];
	const expected = info.height * (1 + Math.ceil((info.width * PNG_CHANNELS[bytes[25]] * bitDepth) / 8));
	let raw: Buffer;
	try {
		raw = zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
	} catch {
		return 'the PNG pixel data does not decode.';
	}
	const interlaced = bytes[28] === 1;
	if (!interlaced && raw.length !== expected) return `the PNG pixel data holds ${raw.length} bytes where its header needs ${expected}.`;
	return undefined;
}
