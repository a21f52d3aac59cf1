import type { StreamingJsonBody } from '../transport/types';

/**
 * JSON request bodies whose inline images (`data:<mime>;base64,…`) are streamed from their source and
 * Base64-encoded on the fly: neither the image nor its Base64 form is ever held in memory whole, so a
 * 20 MB input costs a few 64 KiB blocks instead of ~50 MB of strings, and the exact Content-Length is
 * known up front.
 */

/** An image that will be inlined as `data:<mime>;base64,<...>` without being held in memory as Base64. */
export interface ImagePayload {
	readonly kind: 'image-payload';
	readonly mimeType: string;
	/** Exact raw (not Base64) byte length of what `open()` yields. */
	readonly byteLength: number;
	/** Called once per body `open()`, so it must be re-openable (e.g. re-read from the binary store). */
	open(): AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
}

export function imagePayload(mimeType: string, byteLength: number, open: ImagePayload['open']): ImagePayload {
	if (!/^[\w.+-]+\/[\w.+-]+$/.test(mimeType)) throw new Error(`imagePayload: invalid MIME type "${mimeType}"`);
	if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
		throw new Error(`imagePayload: byteLength must be a non-negative integer, got ${byteLength}`);
	}
	return { kind: 'image-payload', mimeType, byteLength, open };
}

export function bufferPayload(mimeType: string, buffer: Buffer): ImagePayload {
	return imagePayload(mimeType, buffer.length, async function* () {
		yield buffer;
	});
}

function isImagePayload(value: unknown): value is ImagePayload {
	return (
		typeof value === 'object' &&
		value !== null &&
		(value as ImagePayload).kind === 'image-payload' &&
		typeof (value as ImagePayload).open === 'function'
	);
}

/** 3 input bytes → 4 Base64 chars, so a multiple of 3 in gives ~64 KiB blocks out with no padding. */
const BASE64_INPUT_BLOCK = 3 * 16 * 1024;

/** Streaming Base64 encoder (carries the 0–2 leftover bytes between chunks; emits in ~64 KiB blocks). */
export async function* base64Stream(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
	// One reusable staging block: toString('base64') copies, so it can be overwritten after each emit.
	const block = Buffer.allocUnsafe(BASE64_INPUT_BLOCK);
	let filled = 0;
	for await (const chunk of source) {
		let at = 0;
		while (at < chunk.length) {
			const n = Math.min(chunk.length - at, BASE64_INPUT_BLOCK - filled);
			block.set(chunk.subarray(at, at + n), filled);
			filled += n;
			at += n;
			if (filled === BASE64_INPUT_BLOCK) {
				yield Buffer.from(block.toString('base64'), 'latin1');
				filled = 0;
			}
		}
	}
	// Only the tail gets '=' padding; everything before was a multiple of 3 bytes.
	if (filled > 0) yield Buffer.from(block.toString('base64', 0, filled), 'latin1');
}

/** Base64 length of n raw bytes, padding included. */
function base64Length(n: number): number {
	return 4 * Math.ceil(n / 3);
}

/** A literal piece of the JSON text, or the Base64 of one payload (its `data:` prefix is in the literal before). */
type Segment = { literal: Buffer } | { payload: ImagePayload; index: number };

/**
 * Serialises `value` (plain JSON data with ImagePayload leaves anywhere) into a StreamingJsonBody.
 *
 * JSON.stringify does all the escaping; each payload is first replaced by a placeholder token built from a
 * random nonce, and the text is split on those tokens. The token count is then verified: if user text
 * (a prompt) happened to contain a token, the count would exceed the payload count and a new nonce is
 * drawn, so a prompt can never be mistaken for an image slot.
 */
export function buildStreamingJsonBody(value: unknown): StreamingJsonBody {
	const payloads: ImagePayload[] = [];
	let text: string | undefined;
	let nonce = '';
	for (let attempt = 0; ; attempt++) {
		if (attempt === 10) throw new Error('buildStreamingJsonBody: could not find a unique placeholder');
		nonce = Math.random().toString(36).slice(2) + Date.now().toString(36) + attempt;
		payloads.length = 0;
		text = JSON.stringify(value, (_key, v: unknown) => {
			if (!isImagePayload(v)) return v;
			payloads.push(v);
			return `wanimg${nonce}x${payloads.length - 1}x`;
		});
		if (text === undefined) throw new Error('buildStreamingJsonBody: value is not serialisable to JSON');
		if (text.split(`wanimg${nonce}x`).length - 1 === payloads.length) break;
	}

	const segments: Segment[] = [];
	const token = new RegExp(`wanimg${nonce}x(\\d+)x`, 'g');
	let last = 0;
	for (const match of text.matchAll(token)) {
		const index = Number(match[1]);
		const payload = payloads[index];
		// The MIME sits inside a JSON string: let JSON.stringify escape it (it is validated anyway).
		const prefix = JSON.stringify(`data:${payload.mimeType};base64,`).slice(1, -1);
		segments.push({ literal: Buffer.from(text.slice(last, match.index) + prefix, 'utf8') });
		segments.push({ payload, index });
		last = match.index! + match[0].length;
	}
	segments.push({ literal: Buffer.from(text.slice(last), 'utf8') });

	const contentLength = segments.reduce(
		(sum, s) => sum + ('literal' in s ? s.literal.length : base64Length(s.payload.byteLength)),
		0,
	);

	return {
		kind: 'streaming-json',
		contentLength,
		open: () => streamSegments(segments),
		preview: () =>
			JSON.parse(
				JSON.stringify(value, (_key, v: unknown) =>
					isImagePayload(v) ? `data:${v.mimeType};base64,<${v.byteLength} bytes>` : v,
				),
			),
	};
}

async function* streamSegments(segments: Segment[]): AsyncIterable<Uint8Array> {
	for (const segment of segments) {
		if ('literal' in segment) {
			if (segment.literal.length > 0) yield segment.literal;
		} else {
			const { payload, index } = segment;
			yield* base64Stream(counted(await payload.open(), payload, index));
		}
	}
}

/**
 * Passes a payload's chunks through, failing as soon as it yields more than `byteLength`, or at its end if
 * it yielded fewer: the request's Content-Length was computed from `byteLength` and would be a lie.
 */
async function* counted(source: AsyncIterable<Uint8Array>, payload: ImagePayload, index: number) {
	let seen = 0;
	const mismatch = (what: string) =>
		new Error(
			`image payload #${index} (${payload.mimeType}) ${what} than its declared ${payload.byteLength} bytes; ` +
				'the request Content-Length would be wrong (did the binary data change?)',
		);
	for await (const chunk of source) {
		seen += chunk.length;
		if (seen > payload.byteLength) throw mismatch(`yielded more bytes (at least ${seen})`);
		yield chunk;
	}
	if (seen !== payload.byteLength) throw mismatch(`yielded fewer bytes (${seen})`);
}
