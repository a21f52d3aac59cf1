/**
 * An RGB canvas laid out as PNG scanlines (one filter-type byte, then 3 bytes per pixel), so the
 * picture is painted where it will be compressed from: no second full-size buffer. Drawing clips to
 * the canvas; coordinates are integers (callers round).
 */
import { CHAR_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphColumns } from './font';

export type Rgb = readonly [number, number, number];

export interface Rect {
	x: number;
	y: number;
	width: number;
	height: number;
}

/** A small decoded picture: RGB, 3 bytes per pixel, rows packed. */
export interface RgbImage {
	width: number;
	height: number;
	pixels: Buffer;
}

export class Canvas {
	/** Bytes per scanline: the filter byte plus the pixels. */
	readonly stride: number;
	readonly data: Buffer;

	constructor(
		readonly width: number,
		readonly height: number,
	) {
		this.stride = 1 + width * 3;
		this.data = Buffer.allocUnsafe(this.stride * height);
	}

	/** Byte offset of pixel (x, y). */
	offset(x: number, y: number): number {
		return y * this.stride + 1 + x * 3;
	}

	fill(rect: Rect, color: Rgb): void {
		const r = this.clip(rect);
		if (!r) return;
		for (let y = r.y; y < r.y + r.height; y++) {
			let p = this.offset(r.x, y);
			for (let x = 0; x < r.width; x++) {
				this.data[p++] = color[0];
				this.data[p++] = color[1];
				this.data[p++] = color[2];
			}
		}
	}

	/** Mixes `color` over the rectangle: `opacity` 0 keeps the pixels, 1 replaces them. */
	shade(rect: Rect, color: Rgb, opacity: number): void {
		const r = this.clip(rect);
		if (!r) return;
		const keep = 1 - opacity;
		const add = color.map((c) => c * opacity);
		for (let y = r.y; y < r.y + r.height; y++) {
			let p = this.offset(r.x, y);
			for (let x = 0; x < r.width; x++) {
				this.data[p] = this.data[p] * keep + add[0];
				this.data[p + 1] = this.data[p + 1] * keep + add[1];
				this.data[p + 2] = this.data[p + 2] * keep + add[2];
				p += 3;
			}
		}
	}

	/** A rectangle outline `thickness` pixels wide, drawn inside `rect`. */
	outline(rect: Rect, thickness: number, color: Rgb): void {
		const t = Math.max(1, Math.min(thickness, Math.ceil(rect.width / 2), Math.ceil(rect.height / 2)));
		this.fill({ x: rect.x, y: rect.y, width: rect.width, height: t }, color);
		this.fill({ x: rect.x, y: rect.y + rect.height - t, width: rect.width, height: t }, color);
		this.fill({ x: rect.x, y: rect.y + t, width: t, height: rect.height - 2 * t }, color);
		this.fill({ x: rect.x + rect.width - t, y: rect.y + t, width: t, height: rect.height - 2 * t }, color);
	}

	/** Scales `image` into `rect` (nearest pixel). */
	drawImage(image: RgbImage, rect: Rect): void {
		const r = this.clip(rect);
		if (!r) return;
		const columns = new Int32Array(r.width);
		for (let x = 0; x < r.width; x++) {
			columns[x] = Math.min(image.width - 1, Math.floor(((r.x + x - rect.x + 0.5) * image.width) / rect.width)) * 3;
		}
		for (let y = r.y; y < r.y + r.height; y++) {
			const sy = Math.min(image.height - 1, Math.floor(((y - rect.y + 0.5) * image.height) / rect.height));
			const row = sy * image.width * 3;
			let p = this.offset(r.x, y);
			for (let x = 0; x < r.width; x++) {
				const s = row + columns[x];
				this.data[p++] = image.pixels[s];
				this.data[p++] = image.pixels[s + 1];
				this.data[p++] = image.pixels[s + 2];
			}
		}
	}

	/** Draws one line of text with its top-left corner at (x, y); each font pixel is `scale`² pixels. */
	text(text: string, x: number, y: number, scale: number, color: Rgb): void {
		let left = x;
		for (const char of text) {
			const columns = glyphColumns(char);
			for (let cx = 0; cx < GLYPH_WIDTH; cx++) {
				for (let cy = 0; cy < GLYPH_HEIGHT; cy++) {
					if (columns[cx] & (1 << cy)) this.fill({ x: left + cx * scale, y: y + cy * scale, width: scale, height: scale }, color);
				}
			}
			left += CHAR_ADVANCE * scale;
		}
	}

	/**
	 * Applies the PNG "Sub" filter (type 1) to every scanline in place: each byte becomes the
	 * difference to the pixel on its left, so smooth areas compress well. Right to left, so every
	 * byte still reads its unfiltered neighbour.
	 */
	subFilter(): void {
		for (let y = 0; y < this.height; y++) {
			const start = y * this.stride;
			this.data[start] = 1;
			for (let p = start + this.stride - 1; p > start + 3; p--) this.data[p] = (this.data[p] - this.data[p - 3]) & 0xff;
		}
	}

	private clip(rect: Rect): Rect | undefined {
		const x0 = Math.max(0, rect.x);
		const y0 = Math.max(0, rect.y);
		const x1 = Math.min(this.width, rect.x + rect.width);
		const y1 = Math.min(this.height, rect.y + rect.height);
		return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
	}
}
