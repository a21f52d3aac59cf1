/**
 * The download check (output/binaryItems.ts imageVerifier): a result passes only when its bytes are an
 * image by their magic bytes and complete (Content-Length, or the format's end marker when there is
 * none). Real fixture files of every format a result could be, whole and cut.
 */
import { Readable, pipeline } from 'node:stream';

import { imageVerifier } from '../nodes/AlibabaWan/output/binaryItems';
import { bmp, gif, jpeg, png } from './fixtures/images';

/** A minimal complete WebP container (RIFF size = file length - 8) around a VP8L stub. */
function webp(): Buffer {
	const payload = Buffer.from('VP8L\x05\x00\x00\x00\x2f\x00\x00\x00\x00\x00', 'latin1');
	const head = Buffer.alloc(12);
	head.write('RIFF', 0, 'latin1');
	head.writeUInt32LE(4 + payload.length, 4);
	head.write('WEBP', 8, 'latin1');
	return Buffer.concat([head, payload]);
}

/** Streams `bytes` in small chunks through the verifier; resolves with its verdict. */
async function verify(bytes: Buffer, contentLength: number | undefined, type = 'image/png') {
	const verifier = imageVerifier(contentLength, type);
	const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
	let out = Buffer.alloc(0);
	verifier.tap.on('data', (chunk: Buffer) => (out = Buffer.concat([out, chunk])));
	const error = await new Promise<Error | null | undefined>((resolve) => pipeline(Readable.from(chunks), verifier.tap, resolve));
	return { error: error ?? undefined, problem: verifier.problem(), passedThrough: out, mimeType: verifier.mimeType(), size: await verifier.size() };
}

const formats: Array<[string, Buffer]> = [
	['PNG', png(40, 30)],
	['JPEG', jpeg(16, 16)],
	['GIF', gif(10, 10)],
	['BMP', bmp(12, 8)],
	['WebP', webp()],
];

describe.each(formats)('%s', (_name, bytes) => {
	test('whole, with its Content-Length: passed through unchanged', async () => {
		const result = await verify(bytes, bytes.length);
		expect(result.problem).toBeUndefined();
		expect(result.error).toBeUndefined();
		expect(result.passedThrough.equals(bytes)).toBe(true);
	});

	test('whole, without a Content-Length: complete by its end marker', async () => {
		expect((await verify(bytes, undefined)).problem).toBeUndefined();
	});

	test('cut short without a Content-Length: refused', async () => {
		const result = await verify(bytes.subarray(0, bytes.length - 3), undefined);
		expect(result.problem).toMatch(/cut short/);
		expect(result.error?.message).toBe(result.problem);
	});

	test('fewer bytes than its Content-Length: refused', async () => {
		expect((await verify(bytes.subarray(0, bytes.length - 1), bytes.length)).problem).toMatch(/cut short: \d+ of \d+ bytes/);
	});
});

test('a PNG reports its pixel size from IHDR', async () => {
	expect((await verify(png(40, 30), undefined)).size).toBe('40*30');
});

test('an HTML page served as 200 is refused at its first bytes, whatever its content type says, and nothing of it is passed on', async () => {
	const page = Buffer.from('<!DOCTYPE html><html><body>' + 'x'.repeat(5000) + '</body></html>');
	const result = await verify(page, page.length, 'image/png');
	expect(result.problem).toMatch(/^the download is not an image \(image\/png, starts with "<!DOCTYPE html/);
	// Stopped at the first chunk: the page is never passed on to be stored.
	expect(result.passedThrough.length).toBe(0);
});

test('an empty body is refused', async () => {
	expect((await verify(Buffer.alloc(0), 0)).problem).toBe('the download was empty');
});
