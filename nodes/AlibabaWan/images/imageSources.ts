/**
 * Item → ordered image sources → probed, checked images ready for a request body.
 *
 * Binary inputs are read only through n8n's binary helpers (every binary-data mode works) and stay
 * streams: the probe reads a few header bytes and the request body re-opens the stream later.
 *
 * Order of checks, cheapest first, so nothing is decoded that the limits would refuse anyway: the header
 * (format, pixel size, aspect ratio) and the file size are checked before any pixel is decoded; only then
 * is a transparent PNG/BMP decoded (to flatten it, or to learn whether a BMP's alpha is really used).
 * Every refusal is a NodeOperationError naming the item, the image, the field, the limit and the fix.
 */
import { NodeOperationError, type IBinaryData, type IExecuteFunctions } from 'n8n-workflow';

import type { InputImageLimits, ModelEntry } from '../catalog/modelCatalog';
import { formatRatio } from '../catalog/taskParameters';
import { bufferPayload, imagePayload, type ImagePayload } from '../request/streamingJsonBody';
import { alphaInUse, decodeMaskedBmp } from './decodeBmp';
import { decodePng, flattenRgba, type RgbaImage } from './flattenPng';
import { bufferReader, probeImage, streamReader, type ImageProbe } from './probeImage';

/** One entry of the UI's ordered image list. `boxes` is whatever the Region Boxes field held (text or an array). */
export type ImageSourceSpec =
	| { kind: 'binary'; propertyName: string; boxes?: unknown }
	| { kind: 'binaryData'; binary: IBinaryData; propertyName: string; boxes?: unknown }
	| { kind: 'url'; url: string; boxes?: unknown };

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

/** Builds the error for one image of the item being prepared ("Item 2: Image 1 …"). */
type Refuse = (imageNumber: number, message: string) => NodeOperationError;

/** One image being checked: its place, its origin, the model's limits and what to do with transparency. */
/** Which image URLs the service fetches itself (it names itself in the refusal). */
export interface ImageUrlPolicy {
	service: string;
	/** URL schemes with their colon, e.g. 'https:'. */
	schemes: readonly string[];
}

interface ImageJob {
	number: number;
	source: string;
	model: ModelEntry;
	transparency: TransparencyPolicy;
	refuse: Refuse;
}

const dataUriPrefix = /^data:/i;
const dataUriPattern = /^data:([^;,]*)(;[^,]*)?,/i;
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

const convertHint = "e.g. with n8n's Edit Image node (Options › Format)";

export async function prepareImages(
	ctx: IExecuteFunctions,
	itemIndex: number,
	specs: ImageSourceSpec[],
	model: ModelEntry,
	options: { transparency: TransparencyPolicy; maxBoxesPerImage: number; urls: ImageUrlPolicy },
): Promise<PreparedImage[]> {
	const refuse: Refuse = (number, message) =>
		new NodeOperationError(ctx.getNode(), `Item ${itemIndex + 1}: Image ${number} ${message}`, { itemIndex });
	const prepared: PreparedImage[] = [];
	for (const [index, spec] of specs.entries()) {
		const number = index + 1;
		// Boxes first: they are text, cheaper than any image.
		const boxes = parseBoxes(spec.boxes);
		if (typeof boxes === 'string') throw refuse(number, `Region Boxes: ${boxes}`);
		if (boxes.length && options.maxBoxesPerImage === 0) {
			throw refuse(
				number,
				`Region Boxes: has region boxes, which ${model.displayName} and this operation do not support: clear the field, or choose a Wan 2.7 model`,
			);
		}
		const image = await prepareOne(ctx, itemIndex, spec, number, model, options, refuse);
		image.boxes = boxes;
		const problem = boxesProblem(image, options.maxBoxesPerImage);
		if (problem) throw refuse(number, `Region Boxes: ${problem}`);
		prepared.push(image);
	}
	return prepared;
}

async function prepareOne(
	ctx: IExecuteFunctions,
	itemIndex: number,
	spec: ImageSourceSpec,
	number: number,
	model: ModelEntry,
	{ transparency, urls }: { transparency: TransparencyPolicy; urls: ImageUrlPolicy },
	refuse: Refuse,
): Promise<PreparedImage> {
	if (spec.kind === 'url') return prepareUrl(spec.url, { number, source: 'URL', model, transparency, refuse }, urls);

	const source = `binary property "${spec.propertyName}"`;
	const job: ImageJob = { number, source, model, transparency, refuse };
	let binary: IBinaryData;
	if (spec.kind === 'binaryData') {
		binary = spec.binary;
	} else {
		const item = ctx.getInputData()[itemIndex];
		binary = item?.binary?.[spec.propertyName] as IBinaryData;
		if (!binary) {
			const available = Object.keys(item?.binary ?? {});
			throw refuse(
				number,
				`has no binary property "${spec.propertyName}" on the input item` +
					(available.length
						? ` (it has: ${available.join(', ')}): set Input Binary Field to one of those`
						: ' (the item has no binary data): pass a file in from the previous node (e.g. Read/Write Files from Disk or HTTP Request with "File" response), or use an Image URL'),
			);
		}
	}

	const readBuffer = () => ctx.helpers.getBinaryDataBuffer(itemIndex, binary);
	if (binary.id) {
		// Stored modes (filesystem, database, s3): stream from the store, never buffer the file.
		const id = binary.id;
		const { fileSize } = await ctx.helpers.getBinaryMetadata(id);
		const open = async () => (await ctx.helpers.getBinaryStream(id)) as AsyncIterable<Uint8Array>;
		const probe = await probeOrRefuse(streamReader(open, fileSize), job);
		return await finishImage(probe, readBuffer, () => imagePayload(probe.mimeType, fileSize, open), job);
	}

	// Inline (n8n's legacy "default" mode): the bytes are already in memory.
	return await prepareBuffer(await readBuffer(), job);
}

async function prepareBuffer(buffer: Buffer, job: ImageJob): Promise<PreparedImage> {
	const probe = await probeOrRefuse(bufferReader(buffer), job);
	// The MIME comes from the bytes, fixing a wrong or application/octet-stream declaration.
	return await finishImage(probe, async () => buffer, () => bufferPayload(probe.mimeType, buffer), job);
}

/**
 * After the probe: the header limits, then (only for an image that may be transparent) the decode.
 * `original` is the payload of the untouched file, used whenever nothing needs changing.
 */
async function finishImage(
	probe: ImageProbe,
	readBuffer: () => Promise<Buffer>,
	original: () => ImagePayload,
	job: ImageJob,
): Promise<PreparedImage> {
	const { number, source, model, transparency, refuse } = job;
	const problem = imageProblem(probe, model);
	if (problem) throw refuse(number, `(${source}) ${problem}`);
	const unchanged = (): PreparedImage => ({ number, source, value: original(), probe, flattened: false, boxes: [] });
	if (!probe.hasAlpha) return unchanged();

	const kind = probe.format.toUpperCase();
	if (probe.format !== 'png' && probe.format !== 'bmp') {
		// WebP: no decoder is bundled (no new runtime dependency), so it cannot be flattened here.
		throw refuse(
			number,
			`(${source}) is a ${kind} with transparency, which Wan does not accept and this node cannot flatten (it decodes only PNG and BMP): ` +
				`convert it to PNG (then it is flattened onto white automatically) or to JPEG first, ${convertHint}`,
		);
	}

	const refuseTransparent = () =>
		refuse(
			number,
			`(${source}) is a ${kind} with transparency, which Wan does not accept: set Options › Transparent Images to "Flatten Onto White", ` +
				`or remove the transparency first (convert it to JPEG, ${convertHint})`,
		);
	// A PNG's alpha channel is in its header: refused without decoding. A BMP is judged by its pixels below.
	if (transparency === 'fail' && probe.format === 'png') throw refuseTransparent();

	let decoded: RgbaImage;
	try {
		decoded = probe.format === 'png' ? await decodePng(await readBuffer()) : decodeMaskedBmp(await readBuffer());
	} catch (error) {
		throw refuse(
			number,
			`(${source}) is a ${probe.width}×${probe.height} px ${kind} with transparency whose image data is damaged (${(error as Error).message}), ` +
				`so it cannot be flattened: the file is damaged or cut short; export it again, or convert it to JPEG, ${convertHint}`,
		);
	}
	// A BMP header may declare an alpha mask while every pixel is opaque (or the channel is unused):
	// decided by the actual alpha values, such a BMP is sent as it is.
	if (probe.format === 'bmp' && !alphaInUse(decoded)) return unchanged();
	if (transparency === 'fail') throw refuseTransparent();
	const flat = await flattenRgba(decoded);
	const flatProbe = await probeImage(bufferReader(flat));
	const flatProblem = imageProblem(flatProbe, model);
	if (flatProblem) throw refuse(number, `(${source}, after flattening onto white) ${flatProblem}`);
	return { number, source, value: bufferPayload('image/png', flat), probe: flatProbe, flattened: true, boxes: [] };
}

/** "use a public http(s):// URL, an oss:// path, or a data URI like …" for the schemes a service fetches. */
function acceptedUrls(schemes: readonly string[]): string {
	const web = ['http:', 'https:'].filter((scheme) => schemes.includes(scheme));
	const parts = [
		...(web.length === 2 ? ['a public http(s):// URL'] : web.map((scheme) => `a public ${scheme}// URL`)),
		...schemes
			.filter((scheme) => !web.includes(scheme))
			.map((scheme) => `${/^[aeiou]/.test(scheme) ? 'an' : 'a'} ${scheme}// path`),
		'a data URI like data:image/png;base64,iVBORw0…',
	];
	return `use ${parts.slice(0, -1).join(', ')}, or ${parts[parts.length - 1]}`;
}

async function prepareUrl(url: string, job: ImageJob, urls: ImageUrlPolicy): Promise<PreparedImage> {
	const { number, refuse } = job;
	const trimmed = url.trim();
	const accepted = acceptedUrls(urls.schemes);
	if (!trimmed) throw refuse(number, `Image URL is empty: ${accepted}`);
	if (dataUriPrefix.test(trimmed)) {
		const dataUri = dataUriPattern.exec(trimmed);
		if (!dataUri) {
			throw refuse(
				number,
				`Image URL is a data URI without the comma that separates its header from the data (got "${truncate(trimmed, 40)}"): ` +
					'write it as data:image/png;base64,<Base64 data>',
			);
		}
		if (!/;base64$/i.test(dataUri[2] ?? '')) {
			throw refuse(number, 'Image URL is a data URI that is not Base64-encoded: write it as data:image/png;base64,<Base64 data>');
		}
		const data = trimmed.slice(dataUri[0].length).replace(/\s+/g, '');
		if (!base64Pattern.test(data)) {
			const at = data.search(/[^A-Za-z0-9+/=]/);
			throw refuse(
				number,
				`Image URL is a data URI whose data is not valid Base64` +
					(at >= 0 ? ` (character "${data[at]}" at position ${at + 1})` : ' ("=" padding inside the data)') +
					': encode the file with standard Base64 (A–Z, a–z, 0–9, "+" and "/"), or pass the file as a binary field instead',
			);
		}
		return prepareBuffer(Buffer.from(data, 'base64'), { ...job, source: 'data URI' });
	}
	if (!URL.canParse(trimmed)) throw refuse(number, `Image URL "${truncate(trimmed)}" is an invalid URL: ${accepted}`);
	const parsed = new URL(trimmed);
	if (!urls.schemes.includes(parsed.protocol)) {
		throw refuse(number, `Image URL is a ${parsed.protocol} URL, which ${urls.service} cannot fetch: ${accepted}`);
	}
	// URLs pass through: the service downloads them itself, so they cannot be probed here.
	return { number, source: `URL ${truncate(trimmed)}`, value: trimmed, flattened: false, boxes: [] };
}

async function probeOrRefuse(reader: Parameters<typeof probeImage>[0], { number, source, refuse }: ImageJob): Promise<ImageProbe> {
	try {
		return await probeImage(reader);
	} catch (error) {
		throw refuse(
			number,
			`(${source}) could not be read as an image: ${(error as Error).message}. ` +
				'Check that it holds a JPEG, PNG, BMP or WebP file (not an HTML page, a PDF or a cut-off download)',
		);
	}
}

/** Why a probed image breaks the model's input limits (catalog), or undefined. Reads only the header. */
export function imageProblem(probe: ImageProbe, model: ModelEntry): string | undefined {
	const limits: InputImageLimits = model.inputImages;
	const { width, height, fileSize, format } = probe;
	if (!(limits.formats as string[]).includes(format)) {
		const what = format === 'unknown' ? 'is not a recognised image' : `is ${format.toUpperCase()}`;
		return `${what}; accepted formats: ${limits.formats.map((f) => f.toUpperCase()).join(', ')}: convert it to JPEG or PNG first, ${convertHint}`;
	}
	if (fileSize > limits.maxFileBytes) {
		return (
			`is ${formatBytes(fileSize)}; ${model.displayName} accepts at most ${formatBytes(limits.maxFileBytes)} per image: ` +
			'compress it (e.g. save it as JPEG) or scale it down'
		);
	}
	if ([width, height].some((side) => side < limits.side.min || side > limits.side.max)) {
		const tooBig = Math.max(width, height) > limits.side.max;
		return (
			`is ${width}×${height} px; each side must be between ${limits.side.min} and ${limits.side.max} px: ` +
			(tooBig ? `scale it down to at most ${limits.side.max} px per side` : `scale it up to at least ${limits.side.min} px per side`)
		);
	}
	const aspect = width / height;
	if (limits.aspect && (aspect < limits.aspect.min - 1e-9 || aspect > limits.aspect.max + 1e-9)) {
		return (
			`is ${width}×${height} px, aspect ratio ${formatRatio(aspect)}; ${model.displayName} accepts ${formatRatio(limits.aspect.min)} ` +
			`to ${formatRatio(limits.aspect.max)}: crop or pad it to a less extreme shape`
		);
	}
	return undefined;
}

const boxFormat = 'x1,y1,x2,y2 (several separated by ";"), JSON like [[x1,y1,x2,y2]], or an array of such boxes from an expression';

/**
 * Region boxes, as typed in the UI — "x1,y1,x2,y2; x1,y1,x2,y2" or JSON [[x1,y1,x2,y2], …] — or as an
 * array from an expression: [x1,y1,x2,y2] (one box) or [[x1,y1,x2,y2], …]. Absolute pixels of the input
 * image, origin top-left. Returns the boxes, or a message saying what is wrong.
 */
export function parseBoxes(value: unknown): number[][] | string {
	if (value === undefined || value === null) return [];
	let boxes: unknown;
	if (Array.isArray(value)) {
		boxes = value;
	} else if (typeof value === 'string') {
		const trimmed = value.trim();
		if (!trimmed) return [];
		if (trimmed.startsWith('[')) {
			boxes = parseJson(trimmed);
			if (boxes === undefined) return `"${truncate(trimmed)}" is not valid JSON: use ${boxFormat}`;
		} else {
			boxes = trimmed
				.split(/[;\n]+/)
				.map((part) => part.trim())
				.filter(Boolean)
				.map((part) => part.split(/[\s,]+/).filter(Boolean).map(Number));
		}
	} else {
		const got = typeof value === 'object' ? `an object (${truncate(JSON.stringify(value), 60)})` : `${typeof value} ${String(value)}`;
		return `must be text or an array of boxes, but the expression gave ${got}: use ${boxFormat}`;
	}
	if (!Array.isArray(boxes)) return `"${truncate(JSON.stringify(boxes))}" is not a list of boxes: use ${boxFormat}`;
	// A flat [x1, y1, x2, y2] is one box (unambiguous: a list of boxes holds arrays, never numbers).
	if (boxes.length && boxes.every((v) => typeof v === 'number')) boxes = [boxes];
	const list = boxes as unknown[];
	for (const [index, box] of list.entries()) {
		if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isInteger(v))) {
			return `box ${index + 1} must be four whole numbers x1,y1,x2,y2 (got ${truncate(JSON.stringify(box) ?? String(box))}): use ${boxFormat}`;
		}
	}
	return list as number[][];
}

function boxesProblem(image: PreparedImage, maxBoxes: number): string | undefined {
	if (!image.boxes.length) return undefined;
	if (image.boxes.length > maxBoxes) return `has ${image.boxes.length} region boxes; at most ${maxBoxes} per image: remove some`;
	for (const [index, [x1, y1, x2, y2]] of image.boxes.entries()) {
		const label = `region box ${index + 1} [${x1}, ${y1}, ${x2}, ${y2}]`;
		if (x1 < 0 || y1 < 0 || x1 >= x2 || y1 >= y2) {
			return `${label} must satisfy 0 ≤ x1 < x2 and 0 ≤ y1 < y2 (top-left corner first, then bottom-right)`;
		}
		if (image.probe && (x2 > image.probe.width || y2 > image.probe.height)) {
			return `${label} lies outside the image, which is ${image.probe.width}×${image.probe.height} px: keep x2 ≤ ${image.probe.width} and y2 ≤ ${image.probe.height}`;
		}
	}
	return undefined;
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** "20.0 MB (20,971,521 bytes)": the exact count tells apart sizes that round to the same MB. */
function formatBytes(bytes: number): string {
	const rounded = bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
	return `${rounded} (${bytes.toLocaleString('en-US')} bytes)`;
}

function truncate(text: string, max = 80): string {
	return text.length > max ? `${text.slice(0, max)}…` : text;
}
