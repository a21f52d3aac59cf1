/**
 * Input images (GATEWAY_API.md §3): each an http(s) URL or a `data:image/(jpeg|png|bmp|webp);base64,`
 * URI. The bytes are decoded and checked: JPEG/PNG/BMP/WEBP whose magic bytes match the declared MIME,
 * ≤20 MB, 240–8000 px a side, aspect 1:8–8:1, no PNG alpha (upstream, DS), and complete (the pixel
 * data is all there: completeness.ts). Bare base64 is refused
 * (G002 promises data URIs only). No internet: URLs are fetched only from 127.0.0.1/localhost.
 * Byte inspection and data-URI parsing are the shared pure helpers (test/emulator/images.ts).
 */
import { inspectImage, MIME_BY_FORMAT, parseDataUri, pictureLimitViolation, type ImageFormat } from '../emulator/images';
import { incompleteness } from './completeness';
import { invalid, type GatewayError } from './errors';

export interface GatewayInput {
	source: 'data' | 'url';
	format: ImageFormat;
	width: number;
	height: number;
	bytes: number;
	readBytes(): Buffer;
}

export const INPUT_LIMITS = { maxImages: 9, minSide: 240, maxSide: 8000, maxBytes: 20 * 1024 * 1024, maxAspect: 8 };
const DATA_MIMES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/bmp', 'image/webp']);
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Checks one reference; `param` is the field ('image' or 'images'), the message names the index. */
export async function resolveInput(ref: unknown, param: string, index: number): Promise<GatewayInput> {
	const fail = (why: string): GatewayError => invalid(param, `${param}[${index}]: ${why}`);
	if (typeof ref !== 'string' || ref.length === 0) throw fail('must be a non-empty string (an http(s) URL or a data URI).');
	let bytes: Buffer;
	let declared: string | undefined;
	let source: GatewayInput['source'];
	if (ref.startsWith('data:')) {
		const parsed = parseDataUri(ref);
		if (typeof parsed === 'string') throw fail(`${parsed}.`);
		if (!DATA_MIMES.has(parsed.mime)) throw fail(`unsupported MIME type ${parsed.mime}; use image/jpeg, image/png, image/bmp or image/webp.`);
		declared = parsed.mime === 'image/jpg' ? 'image/jpeg' : parsed.mime;
		bytes = parsed.bytes;
		source = 'data';
	} else if (/^https?:\/\//i.test(ref)) {
		bytes = await download(ref, fail);
		source = 'url';
	} else {
		throw fail('not an http(s) URL or a data URI (data:image/png;base64,…).');
	}
	if (bytes.length > INPUT_LIMITS.maxBytes) throw fail(`the image is ${bytes.length} bytes; the limit is 20 MB.`);
	const info = inspectImage(bytes);
	if (info === 'corrupt') throw fail('the image file is corrupt.');
	if (info === 'unsupported') throw fail('unsupported image format; use JPEG, PNG, BMP or WEBP.');
	if (declared !== undefined && declared !== MIME_BY_FORMAT[info.format]) {
		throw fail(`the data URI says ${declared} but the bytes are ${MIME_BY_FORMAT[info.format]}.`);
	}
	const violation = pictureLimitViolation(info, INPUT_LIMITS) ?? incompleteness(bytes, info);
	if (violation) throw fail(violation);
	return { source, format: info.format, width: info.width, height: info.height, bytes: bytes.length, readBytes: reader(source, ref, bytes) };
}

// Outside resolveInput so the closure never holds a decoded data URI: it is decoded again when drawn.
function reader(source: GatewayInput['source'], ref: string, bytes: Buffer): () => Buffer {
	if (source === 'url') return () => bytes;
	return () => (parseDataUri(ref) as { bytes: Buffer }).bytes;
}

async function download(ref: string, fail: (why: string) => GatewayError): Promise<Buffer> {
	let url: URL;
	try {
		url = new URL(ref);
	} catch {
		throw fail('malformed URL.');
	}
	if (url.protocol !== 'http:' || !LOCAL_HOSTS.has(url.hostname)) {
		throw fail(`could not download ${url.origin} (the emulator fetches only http://127.0.0.1 URLs).`);
	}
	let res: Response;
	try {
		res = await fetch(url, { signal: AbortSignal.timeout(5000) });
	} catch {
		throw fail('the image download failed.');
	}
	if (!res.ok) throw fail(`downloading the image answered HTTP ${res.status}.`);
	const declaredLength = Number(res.headers.get('content-length') ?? 0);
	if (declaredLength > INPUT_LIMITS.maxBytes) {
		await res.body?.cancel();
		throw fail(`the image is ${declaredLength} bytes; the limit is 20 MB.`);
	}
	return Buffer.from(await res.arrayBuffer());
}
