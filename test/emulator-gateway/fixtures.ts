/**
 * Test helpers for the gateway emulator suites: a per-file emulator, a POST helper, a body builder,
 * error checks, a poll helper and real input images.
 */
import { inspectImage } from '../emulator/images';
import { setupPerFile } from '../emulator/per-file';
import { GATEWAY_EMULATOR_KEYS, startGatewayEmulator, type GatewayEmulator, type GatewayEmulatorOptions } from './index';

export const KEY = GATEWAY_EMULATOR_KEYS[0];
export const STANDARD = 'wan2.7-image';
export const PRO = 'wan2.7-image-pro';

/** This file's emulator: started before its tests, reset before each, closed after (test/emulator/per-file.ts). */
export function setupGateway(options: GatewayEmulatorOptions = {}): GatewayEmulator {
	return setupPerFile(() => startGatewayEmulator({ timing: { generationMs: 0, perImageMs: 0 }, ...options }));
}

export interface ApiAnswer {
	status: number;
	headers: Headers;
	/**
	 * Parsed JSON, or `{ text }` when not JSON. Typed as the success and error shapes at once for the
	 * tests' convenience; which keys are really present is what the tests assert.
	 */
	body: AnswerBody;
	text: string;
}

export interface AnswerBody {
	created: number;
	object: string;
	data: Array<Record<string, string>>;
	error: { message: string; type: string; param: string | null; code: string | null };
	text: string;
}

export interface PostOptions {
	key?: string | null;
	headers?: Record<string, string>;
	raw?: string;
	signal?: AbortSignal;
	path?: string;
	method?: string;
}

/** Sends `body` to `{base}/images/generations` (or `path`) with the Bearer key unless `key: null`. */
export async function post(emu: GatewayEmulator, body: unknown, opts: PostOptions = {}): Promise<ApiAnswer> {
	const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(opts.headers ?? {}) };
	const key = opts.key === undefined ? KEY : opts.key;
	if (key !== null) headers.Authorization = `Bearer ${key}`;
	const method = opts.method ?? 'POST';
	const res = await fetch(`${emu.apiUrl}${opts.path ?? '/images/generations'}`, {
		method,
		headers,
		body: method === 'GET' || method === 'HEAD' ? undefined : (opts.raw ?? JSON.stringify(body)),
		signal: opts.signal,
	});
	return toAnswer(res);
}

export async function toAnswer(res: Response): Promise<ApiAnswer> {
	const text = await res.text();
	let body: ApiAnswer['body'];
	try {
		body = JSON.parse(text) as ApiAnswer['body'];
	} catch {
		body = { text } as AnswerBody;
	}
	return { status: res.status, headers: res.headers, body, text };
}

/** A valid text-to-image body at 1K (cheap pictures); `over` replaces or adds fields (undefined deletes). */
export function generation(over: Record<string, unknown> = {}): Record<string, unknown> {
	const body: Record<string, unknown> = { model: STANDARD, prompt: 'a glass teapot on a wooden table', size: '1K', ...over };
	for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
	return body;
}

/** The OpenAI error envelope, checked for status, code and param; returns the message. */
export function expectError(answer: ApiAnswer, status: number, code: string | null, param: string | null = null): string {
	expect({ status: answer.status, code: answer.body.error?.code, param: answer.body.error?.param }).toEqual({ status, code, param });
	expect(typeof answer.body.error.message).toBe('string');
	expect(typeof answer.body.error.type).toBe('string');
	return answer.body.error.message;
}

/** Polls `check` (every 5 ms, at most ~10 s) until it is true; for states the emulator reaches on its own. */
export async function until(check: () => boolean): Promise<void> {
	for (let i = 0; i < 2000; i++) {
		if (check()) return;
		await new Promise((r) => setTimeout(r, 5));
	}
	throw new Error('condition not reached');
}

/** Width and height of a PNG/JPEG/WEBP/BMP file (the shared header decoder). */
export function dimensions(bytes: Buffer): { format: string; width: number; height: number } {
	const info = inspectImage(bytes);
	if (typeof info === 'string') throw new Error(`not an image: ${info}`);
	return { format: info.format, width: info.width, height: info.height };
}

// ------------------------------------------------------------------ images

/**
 * Real input images and a local file server: the Runware suites' pure builders (test-only; the
 * gateway emulator itself shares no code with the Runware emulator).
 */
export { bmpImage, dataUri, jpegImage, pngImage, serveFiles, webpImage } from '../emulator-runware/fixtures';
