/**
 * Test helpers for the Runware emulator suites: a per-file emulator, a JSON-array POST helper,
 * task builders and real input images (PNG by hand; JPG and WEBP from the emulator's own encoders,
 * which libjpeg and libwebp decode).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';

import { Canvas } from '../emulator/canvas';
import { closeServer, listenOrigin } from '../emulator/http-common';
import { setupPerFile } from '../emulator/per-file';
import { pngChunk } from '../emulator/png';
import { encodeJpeg, encodeWebpLossless } from './encoders';
import { RUNWARE_EMULATOR_KEYS, startRunwareEmulator, type RunwareEmulator, type RunwareEmulatorOptions } from './index';

export const KEY = RUNWARE_EMULATOR_KEYS[0];
export const STANDARD = 'alibaba:wan@2.7-image';
export const PRO = 'alibaba:wan@2.7-image-pro';

/** This file's emulator: started before its tests, reset before each, closed after (test/emulator/per-file.ts). */
export function setupRunware(options: RunwareEmulatorOptions = {}): RunwareEmulator {
	return setupPerFile(() => startRunwareEmulator(options));
}

export interface ApiAnswer {
	status: number;
	headers: Headers;
	/** Parsed JSON, or the text when not JSON. */
	body: { data?: Array<Record<string, unknown>>; errors?: Array<Record<string, unknown>> } & Record<string, unknown>;
	text: string;
}

/** POSTs `tasks` (anything; arrays are the normal case) with the Bearer key unless `key: null`. */
export async function post(
	emu: RunwareEmulator,
	tasks: unknown,
	opts: { key?: string | null; headers?: Record<string, string>; raw?: string; signal?: AbortSignal } = {},
): Promise<ApiAnswer> {
	const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(opts.headers ?? {}) };
	const key = opts.key === undefined ? KEY : opts.key;
	if (key !== null) headers.Authorization = `Bearer ${key}`;
	const res = await fetch(emu.apiUrl, { method: 'POST', headers, body: opts.raw ?? JSON.stringify(tasks), signal: opts.signal });
	const text = await res.text();
	let body: ApiAnswer['body'];
	try {
		body = JSON.parse(text) as ApiAnswer['body'];
	} catch {
		body = { text };
	}
	return { status: res.status, headers: res.headers, body, text };
}

/** A valid text-to-image task; `over` replaces or adds fields (undefined deletes). */
export function inference(over: Record<string, unknown> = {}): Record<string, unknown> {
	const task: Record<string, unknown> = {
		taskType: 'imageInference',
		taskUUID: randomUUID(),
		model: STANDARD,
		positivePrompt: 'a glass teapot on a wooden table',
		width: 1024,
		height: 1024,
		...over,
	};
	for (const [k, v] of Object.entries(task)) if (v === undefined) delete task[k];
	return task;
}

export const getResponse = (taskUUID: unknown) => ({ taskType: 'getResponse', taskUUID });

/** The single error of a refused request, checked for status and code. */
export function expectError(answer: ApiAnswer, status: number, code: string): Record<string, unknown> {
	expect({ status: answer.status, codes: answer.body.errors?.map((e) => e.code) }).toEqual({ status, codes: [code] });
	return answer.body.errors![0];
}

// ------------------------------------------------------------------ images

/** A solid-colour canvas (RGB). */
export function solidCanvas(width: number, height: number, fill: readonly [number, number, number]): Canvas {
	const canvas = new Canvas(width, height);
	canvas.fill({ x: 0, y: 0, width, height }, fill);
	return canvas;
}

/** A real PNG, RGB one colour (or RGBA when `alpha`). */
export function pngImage(width: number, height: number, fill: readonly [number, number, number] = [30, 120, 200], alpha = false): Buffer {
	const channels = alpha ? 4 : 3;
	const stride = 1 + width * channels;
	const raw = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const p = y * stride + 1 + x * channels;
			raw[p] = fill[0];
			raw[p + 1] = fill[1];
			raw[p + 2] = fill[2];
			if (alpha) raw[p + 3] = 128;
		}
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = alpha ? 6 : 2;
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk('IHDR', ihdr),
		pngChunk('IDAT', deflateSync(raw)),
		pngChunk('IEND', Buffer.alloc(0)),
	]);
}

export const jpegImage = (width: number, height: number, fill: readonly [number, number, number] = [200, 60, 40]): Buffer =>
	encodeJpeg(solidCanvas(width, height, fill), 90);

export const webpImage = (width: number, height: number, fill: readonly [number, number, number] = [40, 200, 90]): Buffer =>
	encodeWebpLossless(solidCanvas(width, height, fill));

/** An uncompressed 24-bit BMP (a format Runware's reference does not list). */
export function bmpImage(width: number, height: number): Buffer {
	const rowBytes = Math.ceil((width * 3) / 4) * 4;
	const buf = Buffer.alloc(54 + rowBytes * height, 0x80);
	buf.write('BM', 0, 'latin1');
	buf.writeUInt32LE(buf.length, 2);
	buf.writeUInt32LE(54, 10);
	buf.writeUInt32LE(40, 14);
	buf.writeInt32LE(width, 18);
	buf.writeInt32LE(height, 22);
	buf.writeUInt16LE(1, 26);
	buf.writeUInt16LE(24, 28);
	buf.writeUInt32LE(0, 30);
	return buf;
}

export const dataUri = (bytes: Buffer, mime = 'image/png'): string => `data:${mime};base64,${bytes.toString('base64')}`;

/** Serves `files` (path → bytes) on 127.0.0.1; returns the origin and a close function. */
export async function serveFiles(files: Record<string, Buffer>): Promise<{ origin: string; close: () => Promise<void> }> {
	const server = http.createServer((req, res) => {
		const body = files[req.url ?? ''];
		if (!body) {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
	});
	const origin = await listenOrigin(server, 0, '127.0.0.1');
	return { origin, close: () => closeServer(server) };
}

export async function download(url: string): Promise<{ status: number; contentType: string | null; bytes: Buffer }> {
	const res = await fetch(url);
	return { status: res.status, contentType: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}
