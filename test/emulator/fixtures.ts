/**
 * Test helpers for the emulator suites: tiny image builders (complete PNG/BMP; JPEG/WEBP/GIF headers
 * by hand — the emulator, like the documented checks, only needs headers), a local image server, and
 * a thin DashScope HTTP helper on top of fetch.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

import { EMULATOR_KEYS, startEmulator, type Emulator, type EmulatorOptions, type RegionId } from './index';
import { setupPerFile } from './per-file';
import { pngChunk } from './png';

// ------------------------------------------------------------------ per-file emulator

/** This file's emulator: started with `options` before its tests, reset before each, closed after (per-file.ts). */
export function setupEmulator(options: EmulatorOptions): Emulator {
	return setupPerFile(() => startEmulator(options));
}

// ------------------------------------------------------------------ images

/**
 * A real, decodable PNG (own tiny encoder: pngjs' writer is slow under jest). Default RGB (colour
 * type 2, no alpha); `alpha` → RGBA (6), `grayAlpha` → grey+alpha (4), `trns` adds a tRNS chunk;
 * `fill` paints an RGB picture one solid colour.
 */
export function pngImage(
	width: number,
	height: number,
	opts: { alpha?: boolean; grayAlpha?: boolean; trns?: boolean; fill?: readonly [number, number, number] } = {},
): Buffer {
	const colorType = opts.alpha ? 6 : opts.grayAlpha ? 4 : 2;
	const channels = colorType === 6 ? 4 : colorType === 4 ? 2 : 3;
	const stride = 1 + width * channels;
	const raw = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const p = y * stride + 1 + x * channels;
			for (let c = 0; c < channels; c++) raw[p + c] = opts.fill?.[c] ?? (x * 3 + y * 5 + c * 40) & 0xff;
			if (channels === 4 || channels === 2) raw[p + channels - 1] = 200; // some transparency
		}
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = colorType;
	const chunks = [pngChunk('IHDR', ihdr)];
	if (opts.trns) chunks.push(pngChunk('tRNS', Buffer.from([0, 0, 0, 0, 0, 0]))); // RGB transparent colour
	chunks.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)));
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

/** JPEG headers (SOI, APP0/JFIF, SOF0 with the size, EOI); `totalBytes` pads with a filler to an exact file size. */
export function jpegImage(width: number, height: number, totalBytes?: number): Buffer {
	const soi = Buffer.from([0xff, 0xd8]);
	const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
	const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
	const eoi = Buffer.from([0xff, 0xd9]);
	const head = Buffer.concat([soi, app0, sof]);
	const pad = totalBytes !== undefined ? Math.max(0, totalBytes - head.length - eoi.length) : 0;
	return Buffer.concat([head, Buffer.alloc(pad, 0x5a), eoi]);
}

/**
 * A real, decodable one-colour baseline JPEG: YCbCr 4:2:0, quantisation all 1, the standard DC
 * Huffman table and an AC table holding only end-of-block, so every block is just its DC value.
 */
export function solidJpeg(width: number, height: number, rgb: readonly [number, number, number]): Buffer {
	const [r, g, b] = rgb;
	const levels = [
		0.299 * r + 0.587 * g + 0.114 * b,
		128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
		128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
	].map((v) => 8 * (Math.round(v) - 128)); // DC coefficient of a flat block
	const dcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]; // Annex K.3, categories 0–11
	const dcCodes: Array<[number, number]> = []; // category → [code, length]
	for (let length = 1, code = 0, category = 0; length <= 16; length++, code <<= 1) {
		for (let i = 0; i < dcCounts[length - 1]; i++) dcCodes[category++] = [code++, length];
	}
	const bytes: number[] = [];
	let acc = 0;
	let used = 0;
	const put = (value: number, length: number) => {
		for (let i = length - 1; i >= 0; i--) {
			acc = (acc << 1) | ((value >> i) & 1);
			if (++used === 8) {
				bytes.push(acc);
				if (acc === 0xff) bytes.push(0x00); // byte stuffing
				acc = used = 0;
			}
		}
	};
	const previous = [0, 0, 0];
	const block = (component: number) => {
		const diff = levels[component] - previous[component];
		previous[component] = levels[component];
		const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
		put(...dcCodes[category]);
		put(diff < 0 ? diff + (1 << category) - 1 : diff, category);
		put(0, 1); // AC: end of block
	};
	for (let mcu = 0; mcu < Math.ceil(width / 16) * Math.ceil(height / 16); mcu++) {
		for (let i = 0; i < 4; i++) block(0);
		block(1);
		block(2);
	}
	if (used) put(0x7f, 8 - used); // pad with 1-bits
	const segment = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
	return Buffer.from([
		0xff, 0xd8,
		...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
		...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]),
		...segment(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i), 0x10, 1, ...new Array<number>(15).fill(0), 0x00]),
		...segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]),
		...bytes,
		0xff, 0xd9,
	]);
}

/** A complete 24-bit BMP. */
export function bmpImage(width: number, height: number): Buffer {
	const rowBytes = Math.ceil((width * 3) / 4) * 4;
	const pixelBytes = rowBytes * height;
	const buf = Buffer.alloc(54 + pixelBytes, 0x40);
	buf.write('BM', 0, 'latin1');
	buf.writeUInt32LE(buf.length, 2);
	buf.writeUInt32LE(0, 6);
	buf.writeUInt32LE(54, 10);
	buf.writeUInt32LE(40, 14);
	buf.writeInt32LE(width, 18);
	buf.writeInt32LE(height, 22);
	buf.writeUInt16LE(1, 26);
	buf.writeUInt16LE(24, 28);
	buf.writeUInt32LE(0, 30);
	buf.writeUInt32LE(pixelBytes, 34);
	return buf;
}

/** WEBP container headers for the three bitstream kinds. */
export function webpImage(width: number, height: number, kind: 'VP8' | 'VP8L' | 'VP8X' = 'VP8'): Buffer {
	let chunk: Buffer;
	if (kind === 'VP8') {
		const data = Buffer.alloc(10);
		data.set([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a], 0);
		data.writeUInt16LE(width & 0x3fff, 6);
		data.writeUInt16LE(height & 0x3fff, 8);
		chunk = Buffer.concat([Buffer.from('VP8 ', 'latin1'), u32le(data.length), data]);
	} else if (kind === 'VP8L') {
		const data = Buffer.alloc(5);
		data[0] = 0x2f;
		data.writeUInt32LE(((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14), 1);
		chunk = Buffer.concat([Buffer.from('VP8L', 'latin1'), u32le(data.length + 1), data, Buffer.alloc(1)]);
	} else {
		const data = Buffer.alloc(10);
		data.writeUIntLE(width - 1, 4, 3);
		data.writeUIntLE(height - 1, 7, 3);
		chunk = Buffer.concat([Buffer.from('VP8X', 'latin1'), u32le(data.length), data]);
	}
	const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), chunk]);
	return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32le(body.length), body]);
}

export function gifImage(width: number, height: number): Buffer {
	const buf = Buffer.alloc(13);
	buf.write('GIF89a', 0, 'latin1');
	buf.writeUInt16LE(width, 6);
	buf.writeUInt16LE(height, 8);
	return buf;
}

function u32le(n: number): Buffer {
	const b = Buffer.alloc(4);
	b.writeUInt32LE(n, 0);
	return b;
}

export function dataUri(bytes: Buffer, mime: string): string {
	return `data:${mime};base64,${bytes.toString('base64')}`;
}

let cachedPng: string | undefined;
/** A small input image valid for every model (RGB PNG 480×400) as a data URI. */
export function smallPng(): string {
	cachedPng ??= dataUri(pngImage(480, 400), 'image/png');
	return cachedPng;
}

/** Cheap data URI of an image of any declared size (JPEG headers only). */
export function jpegUri(width: number, height: number): string {
	return dataUri(jpegImage(width, height), 'image/jpeg');
}

// ------------------------------------------------------------------ local image server

export interface ImageServer {
	url: string;
	close(): Promise<void>;
}

/** Serves `files` (path → bytes, or a status number) on 127.0.0.1. */
export async function serveImages(files: Record<string, Buffer | number>): Promise<ImageServer> {
	const server = http.createServer((req, res) => {
		const entry = files[req.url ?? ''];
		if (entry === undefined || typeof entry === 'number') {
			res.writeHead(typeof entry === 'number' ? entry : 404);
			res.end('no');
			return;
		}
		res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': entry.length });
		res.end(entry);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

// ------------------------------------------------------------------ DashScope HTTP helper

export interface HttpResult {
	status: number;
	headers: Headers;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	body: any;
	text: string;
}

export interface CallOptions {
	method?: string;
	region?: RegionId;
	/** API key; null = no Authorization header. Default: the region's emulator key. */
	key?: string | null;
	headers?: Record<string, string>;
	/** JSON body (sent with Content-Type: application/json). */
	json?: unknown;
	/** Raw body (no Content-Type unless given in headers). */
	raw?: string;
	signal?: AbortSignal;
}

/** Calls `${emu.baseUrl(region)}${path}`. */
export async function call(emu: Emulator, path: string, opts: CallOptions = {}): Promise<HttpResult> {
	const region = opts.region ?? 'ap-southeast-1';
	const key = opts.key === undefined ? EMULATOR_KEYS[region] : opts.key;
	const headers: Record<string, string> = { ...(opts.headers ?? {}) };
	if (key !== null) headers.Authorization = `Bearer ${key}`;
	let body: string | undefined;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
	} else if (opts.raw !== undefined) {
		body = opts.raw;
	}
	const res = await fetch(`${emu.baseUrl(region)}${path}`, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: opts.signal });
	return toResult(res);
}

export async function toResult(res: Response): Promise<HttpResult> {
	const text = await res.text();
	let body: unknown = text;
	try {
		body = text ? JSON.parse(text) : undefined;
	} catch {
		/* not JSON */
	}
	return { status: res.status, headers: res.headers, body, text };
}

export const ASYNC = { 'X-DashScope-Async': 'enable' };
export const GEN_PATH = '/services/aigc/image-generation/generation';
export const SYNC_PATH = '/services/aigc/multimodal-generation/generation';
export const I2I_PATH = '/services/aigc/image2image/image-synthesis';

/** A messages-protocol body (2.7 / 2.6): text first, then images. */
export function msgBody(model: string, text: string, images: string[] = [], parameters: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		model,
		input: { messages: [{ role: 'user', content: [{ text }, ...images.map((image) => ({ image }))] }] },
		parameters,
	};
}

/** An image-synthesis body (2.5). */
export function i2iBody(prompt: string, images: string[], parameters: Record<string, unknown> = {}, input: Record<string, unknown> = {}): Record<string, unknown> {
	return { model: 'wan2.5-i2i-preview', input: { prompt, images, ...input }, parameters };
}

/** Async create on the route that fits the model. */
export function submit(emu: Emulator, body: Record<string, unknown>, opts: CallOptions = {}): Promise<HttpResult> {
	const path = body.model === 'wan2.5-i2i-preview' ? I2I_PATH : GEN_PATH;
	return call(emu, path, { ...opts, json: body, headers: { ...ASYNC, ...(opts.headers ?? {}) } });
}

export function syncCall(emu: Emulator, body: Record<string, unknown>, opts: CallOptions = {}): Promise<HttpResult> {
	return call(emu, SYNC_PATH, { ...opts, json: body });
}

export function query(emu: Emulator, taskId: string, opts: CallOptions = {}): Promise<HttpResult> {
	return call(emu, `/tasks/${taskId}`, opts);
}

/** Expects a 400-ish error with this code; returns the message for further checks. */
export function expectError(res: HttpResult, status: number, code: string): string {
	const detail = `HTTP ${res.status} ${res.text.slice(0, 300)}`;
	if (res.status !== status || res.body?.code !== code) throw new Error(`expected ${status} ${code}, got ${detail}`);
	if (!res.headers.get('content-type')?.startsWith('application/json')) throw new Error(`error without JSON content type: ${detail}`);
	if (typeof res.body.request_id !== 'string' || typeof res.body.message !== 'string') throw new Error(`bad error body: ${detail}`);
	return res.body.message as string;
}

/** Expects a successful async create and returns the task id. */
export function expectTask(res: HttpResult): string {
	if (res.status !== 200 || res.body?.output?.task_status !== 'PENDING') {
		throw new Error(`expected a PENDING task, got HTTP ${res.status} ${res.text.slice(0, 300)}`);
	}
	return res.body.output.task_id as string;
}

/**
 * The ok/bad pair of the validation suites. Both submit, then move the clock on so the
 * per-second/concurrency limits never interfere; `ok` expects a task and returns its snapshot, `bad`
 * expects a 400 with `code` and returns the message.
 */
export function validationCalls(emu: Emulator) {
	async function create(body: Record<string, unknown>): Promise<HttpResult> {
		const res = await submit(emu, body);
		emu.advanceClock(5000);
		return res;
	}
	const ok = async (body: Record<string, unknown>) => emu.task(expectTask(await create(body)))!;
	const bad = async (body: Record<string, unknown>, code = 'InvalidParameter') => expectError(await create(body), 400, code);
	return { ok, bad };
}

/**
 * The OSS form POST of a temporary upload (§8), as the SDKs send it after getPolicy: the policy's
 * fields, then `extra` fields, then the file (OSS wants it last).
 */
export function ossUploadForm(
	policy: Record<string, string>,
	key: string,
	file: { bytes: Buffer; name: string },
	extra: Record<string, string> = {},
): FormData {
	const form = new FormData();
	form.append('OSSAccessKeyId', policy.oss_access_key_id);
	form.append('Signature', policy.signature);
	form.append('policy', policy.policy);
	form.append('key', key);
	form.append('x-oss-object-acl', policy.x_oss_object_acl);
	form.append('x-oss-forbid-overwrite', policy.x_oss_forbid_overwrite);
	form.append('success_action_status', '200');
	for (const [name, value] of Object.entries(extra)) form.append(name, value);
	form.append('file', new Blob([file.bytes]), file.name);
	return form;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN']);

/** Advances the emulator clock past the task's work and returns the terminal query answer. */
export async function finish(emu: Emulator, taskId: string, opts: CallOptions = {}): Promise<HttpResult> {
	for (let i = 0; i < 50; i++) {
		const res = await query(emu, taskId, opts);
		if (res.status === 200 && TERMINAL.has(res.body.output.task_status)) return res;
		emu.advanceClock(1000);
	}
	throw new Error(`task ${taskId} did not finish`);
}
