/**
 * Reference images (`inputs.referenceImages`): each a data URI, bare base64, an http(s) URL or the
 * UUID of an image this emulator produced (RUNWARE_API.md §4). The bytes are decoded and checked:
 * PNG/JPG/WEBP only (the safe intersection of §4.1), no PNG alpha, 240–8000 px a side, ≤20 MB,
 * aspect 1:8–8:1. The emulator has no internet: URLs are fetched only from 127.0.0.1/localhost.
 * Byte inspection and data-URI parsing are the DashScope emulator's pure helpers (images.ts).
 */
import http from 'node:http';

import { inspectImage, MIME_BY_FORMAT, parseDataUri, pictureLimitViolation, type ImageFormat } from '../emulator/images';
import { invalid, type RunwareError } from './errors';

export type InputSource = 'dataURI' | 'base64' | 'url' | 'uuid';

export interface ResolvedInput {
	source: InputSource;
	format: ImageFormat;
	width: number;
	height: number;
	bytes: number;
	readBytes(): Buffer;
}

export const INPUT_LIMITS = { minSide: 240, maxSide: 8000, maxBytes: 20 * 1024 * 1024, maxAspect: 8 };
const ACCEPTED: ReadonlySet<ImageFormat> = new Set(['png', 'jpeg', 'webp']);
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PARAM = 'inputs.referenceImages';

/** Looks up an image this emulator produced, by imageUUID (for the caller's key). */
export type ImageLookup = (imageUUID: string) => Promise<Buffer> | undefined;

export async function resolveReference(ref: string, index: number, lookup: ImageLookup): Promise<ResolvedInput> {
	const label = `${PARAM}[${index}]`;
	const fail = (why: string): RunwareError => invalid(PARAM, `${label}: ${why}`);
	let bytes: Buffer;
	let source: InputSource;
	let declaredMime: string | undefined;
	if (ref.startsWith('data:')) {
		const parsed = parseDataUri(ref);
		if (typeof parsed === 'string') throw fail(parsed);
		bytes = parsed.bytes;
		declaredMime = parsed.mime;
		source = 'dataURI';
	} else if (/^https?:\/\//i.test(ref)) {
		bytes = await download(ref, fail);
		source = 'url';
	} else if (UUID_RE.test(ref)) {
		const found = lookup(ref.toLowerCase());
		if (!found) throw fail(`no image with UUID ${ref} exists for this API key.`);
		bytes = await found;
		source = 'uuid';
	} else {
		const parsed = parseDataUri(`data:application/octet-stream;base64,${ref}`);
		if (typeof parsed === 'string') throw fail('not a UUID, an http(s) URL, a data URI or valid base64.');
		bytes = parsed.bytes;
		source = 'base64';
	}
	if (bytes.length > INPUT_LIMITS.maxBytes) throw fail(`the image is ${bytes.length} bytes; the limit is 20 MB.`);
	const info = inspectImage(bytes);
	if (info === 'corrupt') throw fail('the image file is corrupt.');
	if (info === 'unsupported' || !ACCEPTED.has(info.format)) throw fail('unsupported image format; use PNG, JPG or WEBP.');
	if (declaredMime !== undefined && declaredMime !== MIME_BY_FORMAT[info.format]) {
		throw fail(`the data URI MIME type ${declaredMime} does not match the image content (${MIME_BY_FORMAT[info.format]}).`);
	}
	const violation = pictureLimitViolation(info, INPUT_LIMITS);
	if (violation) throw fail(violation);
	const kept = source === 'dataURI' || source === 'base64' ? undefined : bytes;
	return {
		source,
		format: info.format,
		width: info.width,
		height: info.height,
		bytes: bytes.length,
		// A data URI is decoded again from the request's own string rather than kept twice.
		readBytes: kept ? () => kept : () => (parseDataUri(ref.startsWith('data:') ? ref : `data:x;base64,${ref}`) as { bytes: Buffer }).bytes,
	};
}

function download(ref: string, fail: (why: string) => RunwareError): Promise<Buffer> {
	let url: URL;
	try {
		url = new URL(ref);
	} catch {
		return Promise.reject(fail('malformed URL.'));
	}
	if (!LOCAL_HOSTS.has(url.hostname) || url.protocol !== 'http:') {
		return Promise.reject(fail(`could not download ${url.origin} (the emulator fetches only http://127.0.0.1 URLs).`));
	}
	return new Promise<Buffer>((resolve, reject) => {
		const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
			if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
				res.resume();
				reject(fail(`downloading the image answered HTTP ${res.statusCode}.`));
				return;
			}
			const chunks: Buffer[] = [];
			let total = 0;
			res.on('data', (chunk: Buffer) => {
				total += chunk.length;
				if (total > INPUT_LIMITS.maxBytes) {
					req.destroy();
					reject(fail('the image is larger than 20 MB.'));
				} else chunks.push(chunk);
			});
			res.on('end', () => resolve(Buffer.concat(chunks)));
			res.on('error', () => reject(fail('the image download failed.')));
		});
		req.on('timeout', () => {
			req.destroy();
			reject(fail('the image download timed out.'));
		});
		req.on('error', () => reject(fail('the image download failed.')));
	});
}
