/**
 * Item → ordered image sources → probed, checked images ready for a request body.
 *
 * Binary inputs are read only through n8n's binary helpers (every binary-data mode works) and stay
 * streams: the probe reads a few header bytes and the request body re-opens the stream later.
 */
import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

import type { InputImageLimits, ModelEntry } from '../catalog/modelCatalog';
import { formatRatio } from '../catalog/taskParameters';
import { bufferPayload, imagePayload, type ImagePayload } from '../request/streamingJsonBody';
import { flattenPng } from './flattenPng';
import { bufferReader, probeImage, streamReader, type ImageProbe } from './probeImage';

/** One entry of the UI's ordered image list. */
export type ImageSourceSpec =
	| { kind: 'binary'; propertyName: string; boxes?: string }
	| { kind: 'binaryData'; binary: IBinaryData; propertyName: string; boxes?: string }
	| { kind: 'url'; url: string; boxes?: string };

export type TransparencyPolicy = 'flatten' | 'fail';

export interface PreparedImage {
	/** 1-based: "image 1", "image 2"… in the prompt, in input order. */
	number: number;
	/** Human description of where it came from, for messages. */
	source: string;
	/** A streamed data URI payload, or a URL passed through unchanged. */
	value: ImagePayload | string;
	/** Absent for URLs: the service downloads those itself. */
	probe?: ImageProbe;
	flattened: boolean;
	/** Region boxes [x1, y1, x2, y2] in this image's pixels. */
	boxes: number[][];
}

/** A problem with one image; the caller turns it into a NodeOperationError naming item and field. */
export class ImageInputError extends Error {
	constructor(
		readonly imageNumber: number,
		message: string,
	) {
		super(message);
		this.name = 'ImageInputError';
	}
}

const dataUriPattern = /^data:([^;,]*)(;[^,]*)?,/i;

export async function prepareImages(
	ctx: IExecuteFunctions,
	itemIndex: number,
	specs: ImageSourceSpec[],
	model: ModelEntry,
	options: { transparency: TransparencyPolicy; maxBoxesPerImage: number },
): Promise<PreparedImage[]> {
	const prepared: PreparedImage[] = [];
	for (const [index, spec] of specs.entries()) {
		const number = index + 1;
		const image = await prepareOne(ctx, itemIndex, spec, number, model.inputImages, options.transparency);
		image.boxes = parseBoxes(spec.boxes, number);
		checkBoxes(image, options.maxBoxesPerImage);
		prepared.push(image);
	}
	return prepared;
}

async function prepareOne(
	ctx: IExecuteFunctions,
	itemIndex: number,
	spec: ImageSourceSpec,
	number: number,
	limits: InputImageLimits,
	transparency: TransparencyPolicy,
): Promise<PreparedImage> {
	if (spec.kind === 'url') return prepareUrl(spec.url, number, limits, transparency);

	const source = `binary property "${spec.propertyName}"`;
	let binary: IBinaryData;
	if (spec.kind === 'binaryData') {
		binary = spec.binary;
	} else {
		const item = ctx.getInputData()[itemIndex];
		binary = item?.binary?.[spec.propertyName] as IBinaryData;
		if (!binary) {
			const available = Object.keys(item?.binary ?? {});
			throw new ImageInputError(
				number,
				`has no binary property "${spec.propertyName}" on the input item` +
					(available.length ? ` (it has: ${available.join(', ')})` : ' (the item has no binary data)'),
			);
		}
	}

	if (binary.id) {
		// Stored modes (filesystem, database, s3): stream from the store, never buffer the file.
		const id = binary.id;
		const { fileSize } = await ctx.helpers.getBinaryMetadata(id);
		const open = async () => (await ctx.helpers.getBinaryStream(id)) as AsyncIterable<Uint8Array>;
		const probe = await probeOrFail(streamReader(open, fileSize), number, source);
		if (needsFlattening(probe, number, source, transparency)) {
			return flattenImage(await ctx.helpers.getBinaryDataBuffer(itemIndex, binary), number, source, limits);
		}
		checkImage(probe, number, source, limits);
		return { number, source, value: imagePayload(probe.mimeType, fileSize, open), probe, flattened: false, boxes: [] };
	}

	// Inline (n8n's legacy "default" mode): the bytes are already in memory.
	const buffer = await ctx.helpers.getBinaryDataBuffer(itemIndex, binary);
	return prepareBuffer(buffer, number, source, limits, transparency);
}

async function prepareBuffer(
	buffer: Buffer,
	number: number,
	source: string,
	limits: InputImageLimits,
	transparency: TransparencyPolicy,
): Promise<PreparedImage> {
	const probe = await probeOrFail(bufferReader(buffer), number, source);
	if (needsFlattening(probe, number, source, transparency)) return flattenImage(buffer, number, source, limits);
	checkImage(probe, number, source, limits);
	// The MIME comes from the bytes, fixing a wrong or application/octet-stream declaration.
	return { number, source, value: bufferPayload(probe.mimeType, buffer), probe, flattened: false, boxes: [] };
}

async function prepareUrl(
	url: string,
	number: number,
	limits: InputImageLimits,
	transparency: TransparencyPolicy,
): Promise<PreparedImage> {
	const trimmed = url.trim();
	if (!trimmed) throw new ImageInputError(number, 'has an empty URL');
	const dataUri = dataUriPattern.exec(trimmed);
	if (dataUri) {
		if (!/;base64$/i.test(dataUri[2] ?? '')) {
			throw new ImageInputError(number, 'is a data: URI that is not Base64-encoded (expected data:image/...;base64,...)');
		}
		const buffer = Buffer.from(trimmed.slice(dataUri[0].length), 'base64');
		return prepareBuffer(buffer, number, 'data: URI', limits, transparency);
	}
	if (!URL.canParse(trimmed)) throw new ImageInputError(number, `has an invalid URL "${truncate(trimmed)}"`);
	const parsed = new URL(trimmed);
	if (!['http:', 'https:', 'oss:'].includes(parsed.protocol)) {
		throw new ImageInputError(number, `has a ${parsed.protocol} URL; use http(s)://, oss:// or a data: URI`);
	}
	// URLs pass through: DashScope downloads them itself, so they cannot be probed here.
	return { number, source: `URL ${truncate(trimmed)}`, value: trimmed, flattened: false, boxes: [] };
}

async function probeOrFail(reader: Parameters<typeof probeImage>[0], number: number, source: string) {
	try {
		return await probeImage(reader);
	} catch (error) {
		// eslint-disable-next-line @n8n/community-nodes/require-node-api-error -- becomes a NodeOperationError naming item and image in prepareImageTask
		throw new ImageInputError(number, `(${source}) could not be read as an image: ${(error as Error).message}`);
	}
}

function needsFlattening(probe: ImageProbe, number: number, source: string, transparency: TransparencyPolicy): boolean {
	if (!probe.hasAlpha) return false;
	if (transparency === 'flatten' && probe.format === 'png') return true;
	const how =
		probe.format === 'png'
			? 'set "Transparent Images" to "Flatten onto White" or remove the alpha channel'
			: 'convert it to JPEG or an opaque PNG first';
	throw new ImageInputError(
		number,
		`(${source}) is a ${probe.format.toUpperCase()} with transparency, which Wan does not accept: ${how}`,
	);
}

async function flattenImage(
	buffer: Buffer,
	number: number,
	source: string,
	limits: InputImageLimits,
): Promise<PreparedImage> {
	const flat = await flattenPng(buffer);
	const probe = await probeImage(bufferReader(flat));
	checkImage(probe, number, `${source}, flattened onto white`, limits);
	return { number, source, value: bufferPayload('image/png', flat), probe, flattened: true, boxes: [] };
}

/** Checks a probed image against the model's input limits (catalog). */
export function checkImage(probe: ImageProbe, number: number, source: string, limits: InputImageLimits): void {
	const { width, height, fileSize, format } = probe;
	if (!(limits.formats as string[]).includes(format)) {
		const what = format === 'unknown' ? 'is not a recognised image' : `is ${format.toUpperCase()}`;
		throw new ImageInputError(
			number,
			`(${source}) ${what}; accepted formats: ${limits.formats.map((f) => f.toUpperCase()).join(', ')}`,
		);
	}
	if (fileSize > limits.maxFileBytes) {
		throw new ImageInputError(
			number,
			`(${source}) is ${formatBytes(fileSize)}; this model accepts at most ${formatBytes(limits.maxFileBytes)} per image`,
		);
	}
	for (const [label, side] of [
		['width', width],
		['height', height],
	] as const) {
		if (side < limits.side.min || side > limits.side.max) {
			throw new ImageInputError(
				number,
				`(${source}) is ${width}×${height} px; its ${label} must be between ${limits.side.min} and ${limits.side.max} px`,
			);
		}
	}
	const aspect = width / height;
	if (limits.aspect && (aspect < limits.aspect.min - 1e-9 || aspect > limits.aspect.max + 1e-9)) {
		throw new ImageInputError(
			number,
			`(${source}) is ${width}×${height} px, aspect ratio ${formatRatio(aspect)}; this model accepts ${formatRatio(limits.aspect.min)} to ${formatRatio(limits.aspect.max)}`,
		);
	}
}

/**
 * Region boxes as typed in the UI: "x1,y1,x2,y2; x1,y1,x2,y2" or JSON [[x1,y1,x2,y2], …].
 * Absolute pixels of the input image, origin top-left.
 */
export function parseBoxes(text: string | undefined, number: number): number[][] {
	const trimmed = (text ?? '').trim();
	if (!trimmed) return [];
	let boxes: unknown;
	if (trimmed.startsWith('[')) {
		boxes = parseJson(trimmed);
		if (boxes === undefined) throw new ImageInputError(number, `has region boxes that are not valid JSON: ${truncate(trimmed)}`);
		if (Array.isArray(boxes) && boxes.length === 4 && boxes.every((v) => typeof v === 'number')) boxes = [boxes];
	} else {
		boxes = trimmed
			.split(/[;\n]+/)
			.map((part) => part.trim())
			.filter(Boolean)
			.map((part) => part.split(/[\s,]+/).filter(Boolean).map(Number));
	}
	if (!Array.isArray(boxes)) throw new ImageInputError(number, 'has region boxes that are not a list');
	return boxes.map((box, index) => {
		if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isInteger(v))) {
			throw new ImageInputError(
				number,
				`region box ${index + 1} must be four whole numbers x1,y1,x2,y2 (got ${truncate(JSON.stringify(box))})`,
			);
		}
		return box as number[];
	});
}

function checkBoxes(image: PreparedImage, maxBoxes: number): void {
	if (!image.boxes.length) return;
	if (maxBoxes === 0) throw new ImageInputError(image.number, 'has region boxes, which this model and operation do not support');
	if (image.boxes.length > maxBoxes) {
		throw new ImageInputError(image.number, `has ${image.boxes.length} region boxes; at most ${maxBoxes} per image`);
	}
	for (const [index, [x1, y1, x2, y2]] of image.boxes.entries()) {
		const label = `region box ${index + 1} [${x1}, ${y1}, ${x2}, ${y2}]`;
		if (x1 < 0 || y1 < 0 || x1 >= x2 || y1 >= y2) {
			throw new ImageInputError(image.number, `${label} must satisfy 0 ≤ x1 < x2 and 0 ≤ y1 < y2`);
		}
		if (image.probe && (x2 > image.probe.width || y2 > image.probe.height)) {
			throw new ImageInputError(
				image.number,
				`${label} lies outside the image, which is ${image.probe.width}×${image.probe.height} px`,
			);
		}
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

function formatBytes(bytes: number): string {
	return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

function truncate(text: string, max = 80): string {
	return text.length > max ? `${text.slice(0, max)}…` : text;
}
