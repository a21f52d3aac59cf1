/**
 * Resolves an input-image reference (data URI, http(s) URL, oss:// key) to bytes and checks them
 * against the model's documented input limits (§4.4). The emulator has no internet: URLs are fetched
 * only from 127.0.0.1/localhost (tests serve images there); any other host behaves like an
 * unreachable download (the documented InvalidParameter.DataInspection timeout).
 */
import http from 'node:http';
import https from 'node:https';

import { ApiError, MSG } from './errors';
import { inspectImage, MIME_BY_FORMAT, parseDataUri, type DataUri, type ImageInfo } from './images';
import type { InputImageLimits } from './models';

export interface ResolvedImage extends ImageInfo {
	source: 'data' | 'url' | 'oss';
	bytes: number;
	/**
	 * The file again, for the result pictures. A data URI is decoded anew from the request's own
	 * string rather than kept twice; downloads and uploads keep the buffer they already have.
	 */
	readBytes(): Buffer;
}

export interface ImageResolveContext {
	limits: InputImageLimits;
	/** `X-DashScope-OssResourceResolve: enable` present. */
	ossResolve: boolean;
	/** Looks up a temporary upload for this account/model. */
	lookupOss: (ossUrl: string) => Buffer | undefined;
	/** Download timeout for local URLs. */
	downloadTimeoutMs?: number;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;

export async function resolveImage(ref: unknown, label: string, ctx: ImageResolveContext): Promise<ResolvedImage> {
	if (typeof ref !== 'string' || ref.length === 0) {
		throw new ApiError(400, 'InvalidParameter', `${label} must be a non-empty string (URL, data URI or oss:// path).`);
	}
	let bytes: Buffer;
	let source: ResolvedImage['source'];
	let declaredMime: string | undefined;
	if (ref.startsWith('data:')) {
		const parsed = parseDataUri(ref);
		if (typeof parsed === 'string') throw new ApiError(400, 'InvalidParameter', `${label}: ${parsed}.`);
		bytes = parsed.bytes;
		declaredMime = parsed.mime;
		source = 'data';
	} else if (/^https?:\/\//i.test(ref)) {
		bytes = await download(ref, label, ctx.downloadTimeoutMs ?? 5000);
		source = 'url';
	} else if (ref.startsWith('oss://')) {
		// Without the resolve header the service cannot read oss:// values (§3, §8; code as observed, §6).
		if (!ctx.ossResolve) {
			throw new ApiError(
				400,
				'InvalidParameter.DataInspection',
				`${label}: oss:// resources require the header X-DashScope-OssResourceResolve: enable.`,
			);
		}
		const found = ctx.lookupOss(ref);
		if (!found) {
			// UNCONFIRMED code: missing/expired/foreign upload treated as a failed input download.
			throw new ApiError(
				400,
				'BadRequest.InputDownloadFailed',
				`${label}: the oss resource ${ref} does not exist, has expired or was uploaded for another model or account.`,
			);
		}
		bytes = found;
		source = 'oss';
	} else {
		throw new ApiError(400, 'InvalidURL', `Invalid URL provided in your request (${label}).`);
	}
	const readBytes = source === 'data' ? dataUriReader(ref) : keptBytes(bytes);
	return { ...checkImage(bytes, declaredMime, label, ctx.limits), source, bytes: bytes.length, readBytes };
}

// Built outside resolveImage so a closure never holds that function's scope (and a decoded data URI with it).
function dataUriReader(ref: string): () => Buffer {
	return () => (parseDataUri(ref) as DataUri).bytes;
}

function keptBytes(bytes: Buffer): () => Buffer {
	return () => bytes;
}

/** Applies the documented format/MIME/alpha/pixel-size/aspect/file-size rules. */
export function checkImage(bytes: Buffer, declaredMime: string | undefined, label: string, limits: InputImageLimits): ImageInfo {
	if (bytes.length > limits.maxBytes) {
		throw new ApiError(
			400,
			'InvalidParameter',
			`${label}: the image file size ${bytes.length} bytes exceeds the limit of ${limits.maxBytes / 1024 / 1024} MB.`,
		);
	}
	const info = inspectImage(bytes);
	if (info === 'unsupported' || info === 'corrupt') {
		throw new ApiError(
			400,
			'InvalidImage.FileFormat',
			`${label}: ${info === 'corrupt' ? 'the image file is corrupt' : 'unsupported image format'}; supported formats are JPEG, JPG, PNG, BMP and WEBP.`,
		);
	}
	if (declaredMime !== undefined && declaredMime !== MIME_BY_FORMAT[info.format]) {
		// The data URI MIME "must correspond to the file format" (S001/S003); image/jpg is not a listed type.
		throw new ApiError(
			400,
			'InvalidParameter',
			`${label}: the data URI MIME type ${declaredMime} does not match the image content (${MIME_BY_FORMAT[info.format]}).`,
		);
	}
	if (info.hasAlpha) {
		// UNCONFIRMED: docs say "PNG (alpha channel not supported)"; reject vs flatten unknown, so reject.
		throw new ApiError(400, 'InvalidImage.FileFormat', `${label}: PNG images with an alpha channel are not supported.`);
	}
	const { minSide, maxSide, aspect } = limits;
	if (info.width < minSide || info.width > maxSide || info.height < minSide || info.height > maxSide) {
		throw new ApiError(
			400,
			'InvalidParameter',
			`${label}: image resolution ${info.width}*${info.height} is out of range; width and height must be between ${minSide} and ${maxSide} pixels.`,
		);
	}
	if (aspect) {
		const ratio = info.width / info.height;
		if (ratio < aspect[0] - 1e-9 || ratio > aspect[1] + 1e-9) {
			throw new ApiError(
				400,
				'InvalidParameter',
				`${label}: image aspect ratio ${info.width}:${info.height} is out of range [1:${Math.round(1 / aspect[0])}, ${aspect[1]}:1].`,
			);
		}
	}
	return info;
}

function download(ref: string, label: string, timeoutMs: number): Promise<Buffer> {
	let url: URL;
	try {
		url = new URL(ref);
	} catch {
		return Promise.reject(new ApiError(400, 'InvalidURL', `Invalid URL provided in your request (${label}).`));
	}
	if (!LOCAL_HOSTS.has(url.hostname)) {
		return Promise.reject(new ApiError(400, 'InvalidParameter.DataInspection', `${MSG.downloadTimeout} (${label})`));
	}
	return new Promise<Buffer>((resolve, reject) => {
		const lib = url.protocol === 'https:' ? https : http;
		const req = lib.get(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
			const status = res.statusCode ?? 0;
			if (status < 200 || status >= 300) {
				res.resume();
				reject(
					new ApiError(400, 'BadRequest.InputDownloadFailed', `${label}: failed to download the input image (HTTP ${status}).`),
				);
				return;
			}
			const chunks: Buffer[] = [];
			let total = 0;
			res.on('data', (chunk: Buffer) => {
				total += chunk.length;
				if (total > MAX_DOWNLOAD_BYTES) {
					req.destroy();
					reject(new ApiError(400, 'InvalidParameter', `${label}: the image file is too large.`));
					return;
				}
				chunks.push(chunk);
			});
			res.on('end', () => resolve(Buffer.concat(chunks)));
			res.on('error', () =>
				reject(new ApiError(400, 'BadRequest.InputDownloadFailed', `${label}: failed to download the input image.`)),
			);
		});
		req.on('timeout', () => {
			req.destroy();
			reject(new ApiError(400, 'InvalidParameter.DataInspection', `${MSG.downloadTimeout} (${label})`));
		});
		req.on('error', (err: NodeJS.ErrnoException) => {
			if (err.code === 'ECONNREFUSED') {
				reject(new ApiError(400, 'InvalidURL.ConnectionRefused', `${label}: connection to the image URL was refused.`));
			} else {
				reject(new ApiError(400, 'BadRequest.InputDownloadFailed', `${label}: failed to download the input image.`));
			}
		});
	});
}
