/**
 * Result pictures: a background chosen from a hash of the request (prompt, seed, index, size), the
 * shared overlay of the DashScope emulator's pictures (model, size, seed, "image i of n", prompt
 * start, numbered input thumbnails, edit-region boxes: test/emulator/overlay.ts, rendering only), a
 * "cost $x" tag when includeCost is on, then encoded as PNG, JPG or WEBP. Deterministic: the same
 * request paints the same bytes.
 */
import { createHash } from 'node:crypto';

import { Canvas } from '../emulator/canvas';
import { CHAR_ADVANCE, GLYPH_HEIGHT } from '../emulator/font';
import { paintOverlay, resultLayout, type RenderSpec } from '../emulator/overlay';
import { encodeJpeg, encodePng, encodeWebpLossless } from './encoders';

export type OutputFormat = 'JPG' | 'PNG' | 'WEBP';

export const CONTENT_TYPES: Record<OutputFormat, string> = { JPG: 'image/jpeg', PNG: 'image/png', WEBP: 'image/webp' };
export const EXTENSIONS: Record<OutputFormat, string> = { JPG: 'jpg', PNG: 'png', WEBP: 'webp' };

/** What the overlay shows (test/emulator/overlay.ts), plus the cost tag and the encoding. */
export interface PictureSpec extends Omit<RenderSpec, 'watermark'> {
	/** USD, drawn when defined. */
	cost?: number;
	format: OutputFormat;
	quality: number;
}

export async function renderPicture(spec: PictureSpec): Promise<Buffer> {
	const canvas = new Canvas(spec.width, spec.height);
	paintBackground(canvas, spec);
	const overlay = { ...spec, watermark: false };
	await paintOverlay(canvas, overlay);
	if (spec.cost !== undefined) paintCost(canvas, spec, resultLayout(overlay).textScale);
	if (spec.format === 'JPG') return encodeJpeg(canvas, spec.quality);
	if (spec.format === 'WEBP') return encodeWebpLossless(canvas);
	return encodePng(canvas, `Runware emulator (seed ${spec.seed}, image ${spec.index})`);
}

/** Two colours from the hash, blended along a diagonal in bands 16 px wide. */
function paintBackground(canvas: Canvas, spec: PictureSpec): void {
	const digest = createHash('sha256').update(`${spec.prompt}\u0000${spec.seed}\u0000${spec.index}\u0000${spec.width}x${spec.height}`).digest();
	const span = spec.width + spec.height;
	for (let y = 0; y < spec.height; y++) {
		let p = canvas.offset(0, y);
		for (let x = 0; x < spec.width; x++) {
			const t = (Math.floor((x + y) / 16) * 16) / span;
			for (let c = 0; c < 3; c++) canvas.data[p++] = digest[c] + (digest[c + 3] - digest[c]) * t;
		}
	}
}

/** "cost $0.03" on a dark tag at the top right, under the overlay's text band. */
function paintCost(canvas: Canvas, spec: PictureSpec, scale: number): void {
	const text = `cost $${spec.cost}`;
	const width = (text.length * CHAR_ADVANCE + 1) * scale;
	const x = canvas.width - width - 4 * scale;
	const y = resultLayout({ ...spec, watermark: false }).band.height + 2 * scale;
	canvas.fill({ x, y, width, height: (GLYPH_HEIGHT + 2) * scale }, [0, 0, 0]);
	canvas.text(text, x + scale, y + scale, scale, [120, 255, 160]);
}

/** Small LRU of rendered pictures by imageUUID (promises, so concurrent downloads render once). */
export class PictureCache {
	private readonly entries = new Map<string, Promise<Buffer>>();

	constructor(private readonly capacity = 24) {}

	get(key: string, spec: PictureSpec): Promise<Buffer> {
		let entry = this.entries.get(key);
		if (entry) this.entries.delete(key);
		else {
			entry = renderPicture(spec);
			entry.catch(() => this.entries.delete(key));
		}
		this.entries.set(key, entry);
		while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
		return entry;
	}

	clear(): void {
		this.entries.clear();
	}
}
