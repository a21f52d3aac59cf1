/**
 * What a result picture shows about its request, so a run can be checked at a glance:
 * - a text band at the top: model, output size and seed; "image 2 of 4" when the task makes several
 *   images; the start of the prompt;
 * - a strip at the bottom with a thumbnail of every input image in request order, each framed in its
 *   own colour under a tab with its number ("1", "2", …), with its region boxes (bbox_list);
 * - each region box again, scaled from its input's pixel size to the output size, outlined in its
 *   input's colour and tagged with the input's number (under the band and the thumbnails).
 * Everything comes from the request alone, and the same request paints the same pixels.
 */
import type { Canvas, Rect, RgbImage, Rgb } from './canvas';
import { CHAR_ADVANCE, GLYPH_HEIGHT, LINE_ADVANCE } from './font';
import type { ImageFormat } from './images';
import { decodePreview } from './previews';

export interface RenderInput {
	format: ImageFormat;
	width: number;
	height: number;
	/** The image file as received (for its thumbnail). */
	readBytes(): Buffer;
}

export interface RenderSpec {
	width: number;
	height: number;
	seed: number;
	prompt: string;
	/** 0-based index of this image in its task. */
	index: number;
	/** Images the task was asked for; more than one adds "image i of n". */
	imageCount: number;
	model: string;
	inputs: readonly RenderInput[];
	/** bbox_list as sent: per input image, boxes [x1, y1, x2, y2] in that image's pixels. */
	boxes?: ReadonlyArray<ReadonlyArray<readonly number[]>>;
	/** Paints a light box bottom-right (where the service puts its "AI生成" mark). */
	watermark: boolean;
}

/** Frame, badge and box colour of input image 1, 2, … (bright, so black digits read on them). */
export const INPUT_COLORS: readonly Rgb[] = [
	[255, 82, 82],
	[64, 196, 255],
	[118, 230, 90],
	[255, 171, 64],
	[206, 128, 255],
	[255, 110, 199],
	[60, 230, 200],
	[240, 235, 90],
	[190, 190, 190],
];

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [245, 245, 245];
const AMBER: Rgb = [255, 214, 102];
const PLACEHOLDER_FILL: Rgb = [48, 48, 56];
const PROMPT_LINES = 2;
const MIN_COLUMNS = 28;

export interface TextLine {
	text: string;
	x: number;
	y: number;
	color: Rgb;
}

export interface PlacedBox {
	/** 0-based input index. */
	input: number;
	rect: Rect;
}

export interface ResultLayout {
	/** Size of one font pixel for the text band. */
	textScale: number;
	band: Rect;
	lines: TextLine[];
	/** Where input i's thumbnail is drawn (its frame lies just outside). */
	thumbnails: Rect[];
	frame: number;
	/** The number tab above each thumbnail, and its font scale. */
	badges: Rect[];
	badgeScale: number;
	/** Region boxes inside the thumbnails. */
	thumbnailBoxes: PlacedBox[];
	/** Region boxes mapped into the output frame. */
	outputBoxes: PlacedBox[];
	/** Line width of the output-frame boxes. */
	boxLine: number;
}

/** Positions of everything the overlay draws; pure, so tests can find what should be where. */
export function resultLayout(spec: RenderSpec): ResultLayout {
	const { width, height } = spec;
	const short = Math.min(width, height);
	// Scales follow the picture: wide strips scale with their short side, squares with their area;
	// a line holds at least MIN_COLUMNS characters, so a narrow picture still shows model and size whole.
	const margin = Math.max(4, Math.round(short * 0.025));
	const textScale = Math.max(
		1,
		Math.floor(Math.min(short / 110, Math.sqrt(width * height) / 220, (width - 2 * margin) / (CHAR_ADVANCE * MIN_COLUMNS))),
	);
	const columns = Math.max(1, Math.floor((width - 2 * margin) / (CHAR_ADVANCE * textScale)));

	// The seed only when it fits whole (a cut number would mislead).
	const header = `${spec.model}  ${width}*${height}`;
	const withSeed = `${header}  seed ${spec.seed}`;
	const texts: Array<[string, Rgb]> = [[fit([...withSeed].length <= columns ? withSeed : header, columns), AMBER]];
	if (spec.imageCount > 1) texts.push([`image ${spec.index + 1} of ${spec.imageCount}`, WHITE]);
	for (const line of wrap(`"${spec.prompt.replace(/\s+/g, ' ').trim()}"`, columns, PROMPT_LINES)) texts.push([line, WHITE]);
	const lineHeight = LINE_ADVANCE * textScale;
	const lines = texts.map(([text, color], i) => ({ text, x: margin, y: margin + i * lineHeight, color }));
	// The band always has room for the full prompt lines, so its height does not depend on the prompt.
	const bandLines = (spec.imageCount > 1 ? 2 : 1) + PROMPT_LINES;
	const band = { x: 0, y: 0, width, height: margin * 2 + bandLines * lineHeight - (LINE_ADVANCE - GLYPH_HEIGHT) * textScale };

	// Thumbnails: one row along the bottom, as tall as fits (at most 30 % of the short side), each
	// with its number on a tab above its frame (so the number hides nothing of the picture).
	const count = spec.inputs.length;
	const frame = Math.max(2, Math.round(textScale / 1.5));
	const gap = Math.max(Math.round(margin / 2), 3 * frame);
	const badgeScale = Math.max(1, Math.round(textScale * 1.5));
	const badgeHeight = (GLYPH_HEIGHT + 2) * badgeScale;
	const aspects = spec.inputs.map((img) => img.width / img.height);
	const aspectSum = aspects.reduce((sum, a) => sum + a, 0);
	const free = height - band.height - 2 * margin - 2 * frame - badgeHeight;
	const rowHeight = count
		? Math.max(4, Math.floor(Math.min(short * 0.3, free, (width - 2 * margin - 2 * frame - (count - 1) * gap) / aspectSum)))
		: 0;
	const thumbnails: Rect[] = [];
	const badges: Rect[] = [];
	let x = margin + frame;
	for (const aspect of aspects) {
		const w = Math.max(1, Math.round(rowHeight * aspect));
		const y = height - margin - frame - rowHeight;
		thumbnails.push({ x, y, width: w, height: rowHeight });
		badges.push({ x: x - frame, y: y - frame - badgeHeight, width: badgeWidth(1, badgeScale), height: badgeHeight });
		x += w + gap;
	}

	const thumbnailBoxes: PlacedBox[] = [];
	const outputBoxes: PlacedBox[] = [];
	(spec.boxes ?? []).forEach((boxes, input) => {
		const img = spec.inputs[input];
		if (!img) return;
		for (const box of boxes) {
			thumbnailBoxes.push({ input, rect: scaleBox(box, thumbnails[input], img) });
			outputBoxes.push({ input, rect: scaleBox(box, { x: 0, y: 0, width, height }, img) });
		}
	});
	const boxLine = Math.max(2, Math.round(short / 256));
	return { textScale, band, lines, thumbnails, frame, badges, badgeScale, thumbnailBoxes, outputBoxes, boxLine };
}

/** Paints the overlay onto `canvas` (which holds the background). */
export async function paintOverlay(canvas: Canvas, spec: RenderSpec): Promise<void> {
	const layout = resultLayout(spec);
	const previews = await Promise.all(spec.inputs.map(previewOf));

	// Output-frame boxes first: the panels drawn over them stay readable, and the thumbnails show every box whole.
	const bandBottom = layout.band.y + layout.band.height;
	for (const { input, rect } of layout.outputBoxes) {
		strokeBox(canvas, rect, layout.boxLine, colorOf(input));
		// The tag goes in the box's top-left corner, or just below the band when that corner is under it.
		const tagY = Math.max(rect.y, bandBottom) + layout.boxLine;
		if (tagY < rect.y + rect.height) paintBadge(canvas, rect.x + layout.boxLine, tagY, String(input + 1), layout.textScale, colorOf(input));
	}

	// The service's mark sits bottom right; the emulator's panels go over it so no thumbnail is hidden.
	if (spec.watermark) {
		const { width, height } = spec;
		const x = Math.floor(width * 0.8);
		const y = Math.floor(height * 0.93);
		canvas.fill({ x, y, width: Math.floor(width * 0.97) - x, height: Math.floor(height * 0.98) - y }, [240, 240, 240]);
	}

	canvas.shade(layout.band, BLACK, 0.72);
	for (const line of layout.lines) canvas.text(line.text, line.x, line.y, layout.textScale, line.color);

	layout.thumbnails.forEach((rect, i) => {
		const color = colorOf(i);
		const f = layout.frame;
		canvas.outline({ x: rect.x - f, y: rect.y - f, width: rect.width + 2 * f, height: rect.height + 2 * f }, f, color);
		const preview = previews[i];
		if (preview) canvas.drawImage(preview, rect);
		else paintPlaceholder(canvas, rect, spec.inputs[i], layout.textScale);
	});
	for (const { input, rect } of layout.thumbnailBoxes) strokeBox(canvas, rect, Math.max(1, Math.round(layout.frame / 2)), colorOf(input));
	layout.badges.forEach((rect, i) => paintBadge(canvas, rect.x, rect.y, String(i + 1), layout.badgeScale, colorOf(i)));
}

function colorOf(input: number): Rgb {
	return INPUT_COLORS[input % INPUT_COLORS.length];
}

/** Box [x1, y1, x2, y2] in `img` pixels → a rectangle in `target` (same relative place). */
function scaleBox(box: readonly number[], target: Rect, img: { width: number; height: number }): Rect {
	const sx = target.width / img.width;
	const sy = target.height / img.height;
	const x = target.x + Math.round(box[0] * sx);
	const y = target.y + Math.round(box[1] * sy);
	return { x, y, width: Math.max(1, target.x + Math.round(box[2] * sx) - x), height: Math.max(1, target.y + Math.round(box[3] * sy) - y) };
}

/** A coloured outline edged in black on both sides, readable on any background. */
function strokeBox(canvas: Canvas, rect: Rect, line: number, color: Rgb): void {
	canvas.outline({ x: rect.x - 1, y: rect.y - 1, width: rect.width + 2, height: rect.height + 2 }, line + 2, BLACK);
	canvas.outline(rect, line, color);
}

/** Width of a badge holding `chars` characters at `scale` (one font pixel of padding around). */
function badgeWidth(chars: number, scale: number): number {
	return (chars * CHAR_ADVANCE + 1) * scale;
}

/** A filled label with black text, top-left corner at (x, y). */
function paintBadge(canvas: Canvas, x: number, y: number, label: string, scale: number, color: Rgb): void {
	canvas.fill({ x, y, width: badgeWidth(label.length, scale), height: (GLYPH_HEIGHT + 2) * scale }, color);
	canvas.text(label, x + scale, y + scale, scale, BLACK);
}

/** An input that cannot be shown: its format and pixel size, as large as fits. */
function paintPlaceholder(canvas: Canvas, rect: Rect, input: RenderInput, maxScale: number): void {
	canvas.fill(rect, PLACEHOLDER_FILL);
	const texts = [input.format.toUpperCase(), `${input.width}*${input.height}`];
	const longest = Math.max(...texts.map((t) => t.length));
	let scale = maxScale;
	while (scale > 1 && (longest * CHAR_ADVANCE * scale > rect.width * 0.9 || texts.length * LINE_ADVANCE * scale > rect.height * 0.6)) scale--;
	const top = rect.y + Math.round((rect.height - texts.length * LINE_ADVANCE * scale) / 2);
	texts.forEach((text, i) => {
		const left = rect.x + Math.round((rect.width - text.length * CHAR_ADVANCE * scale) / 2);
		canvas.text(text, left, top + i * LINE_ADVANCE * scale, scale, WHITE);
	});
}

/** Previews by input, so the images of one task decode each input once. */
const previews = new WeakMap<RenderInput, Promise<RgbImage | undefined>>();

function previewOf(input: RenderInput): Promise<RgbImage | undefined> {
	let preview = previews.get(input);
	if (!preview) {
		preview = decodePreview(input.readBytes(), input.format);
		previews.set(input, preview);
	}
	return preview;
}

/** Cuts `text` to `columns` characters, ending in ".." when cut. */
function fit(text: string, columns: number): string {
	const chars = [...text];
	return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 2)).join('')}..`;
}

/** Greedy word wrap into at most `maxLines` lines of `columns` characters; "..." marks a cut. */
function wrap(text: string, columns: number, maxLines: number): string[] {
	let rest = [...text].slice(0, columns * maxLines + 1);
	const lines: string[] = [];
	while (rest.length && lines.length < maxLines) {
		if (rest.length <= columns) {
			lines.push(rest.join(''));
			rest = [];
			break;
		}
		const space = rest.lastIndexOf(' ', columns);
		const cut = space > columns / 2 ? space : columns;
		lines.push(rest.slice(0, cut).join(''));
		rest = rest.slice(cut);
		while (rest[0] === ' ') rest.shift();
	}
	if (rest.length) lines[lines.length - 1] = `${[...lines[lines.length - 1]].slice(0, Math.max(0, columns - 3)).join('')}...`;
	return lines;
}
