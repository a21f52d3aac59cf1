/**
 * Strict validation of create bodies per model (§4.1–4.5, §9.2). Every documented field is checked
 * for type and range; undocumented `parameters` keys (e.g. the Python SDK's `is_async`) are tolerated
 * and ignored, as the real service does. The result is a normalized job the task engine can run.
 */
import { randomInt } from 'node:crypto';

import { ApiError, MSG, invalidParameter } from './errors';
import { resolveImage, type ImageResolveContext, type ResolvedImage } from './image-inputs';
import {
	findModel,
	NEGATIVE_PROMPT_MAX,
	SEED_MAX,
	type CreateRoute,
	type ModelSpec,
} from './models';
import { outputSize, parseSize, sizeModeFor, type ParsedSize } from './sizing';
import type { RegionId } from './types';

export interface JobSpec {
	model: ModelSpec;
	prompt: string;
	promptTruncated: boolean;
	negativePrompt?: string;
	inputs: ResolvedImage[];
	/** 2.7 bbox_list as sent (per input image, boxes [x1, y1, x2, y2]). */
	boxes?: number[][][];
	/** Images the job will try to produce. */
	imageCount: number;
	width: number;
	height: number;
	seed: number;
	seedGenerated: boolean;
	watermark: boolean;
	/** 2.7 image-set mode: one choice with several images. */
	sequential: boolean;
	/** 2.6 mixed text+image output. */
	interleave: boolean;
	/** 2.5/2.6 prompt rewriting (2.5 then reports `actual_prompt`). */
	promptExtend: boolean;
	/** 2.6 sync interleave answers as SSE. */
	stream: boolean;
	/** Effective documented parameters after defaults (for snapshots). */
	params: Record<string, unknown>;
}

export interface ValidationContext {
	route: CreateRoute;
	region: RegionId;
	/** Lower-case header map of the request. */
	headers: Record<string, string>;
	images: Omit<ImageResolveContext, 'limits' | 'ossResolve'>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const charLength = (s: string): number => [...s].length;
const headerEnabled = (headers: Record<string, string>, name: string): boolean =>
	(headers[name] ?? '').trim().toLowerCase() === 'enable';

/** Looks the model up and checks region and route; cheap, runs before any image work. */
export function resolveModel(body: unknown, route: CreateRoute, region: RegionId): ModelSpec {
	if (!isObject(body)) throw invalidParameter('The request body must be a JSON object.');
	const model = body.model;
	if (model === undefined || model === null || model === '') throw new ApiError(400, 'BadRequest.EmptyModel', MSG.emptyModel);
	if (typeof model !== 'string') throw invalidParameter('Parameter model must be a string.');
	const spec = findModel(model);
	// UNCONFIRMED message; the code follows the error table ("404 ModelNotFound: wrong model or region").
	if (!spec) throw new ApiError(404, 'ModelNotFound', MSG.modelNotExist);
	if (!spec.regions.includes(region)) throw new ApiError(404, 'ModelNotFound', MSG.modelNotExist);
	if (!spec.routes.includes(route)) {
		// UNCONFIRMED: no documented answer for a model sent to another model family's route.
		throw invalidParameter(
			`Model ${spec.id} is not supported by this API; ${spec.protocol === 'synthesis' ? 'use POST /services/aigc/image2image/image-synthesis' : 'use /services/aigc/multimodal-generation/generation or /services/aigc/image-generation/generation'}.`,
		);
	}
	return spec;
}

export async function validateCreate(body: Json, spec: ModelSpec, ctx: ValidationContext): Promise<JobSpec> {
	const input = body.input;
	if (input === undefined || input === null) throw new ApiError(400, 'BadRequest.EmptyInput', MSG.emptyInput);
	if (!isObject(input)) throw invalidParameter('Parameter input must be a JSON object.');
	const rawParams = body.parameters;
	// `parameters` is always sent by the SDKs (maybe `{}`); missing is tolerated too.
	if (rawParams !== undefined && rawParams !== null && !isObject(rawParams)) {
		throw invalidParameter('Parameter parameters must be a JSON object.');
	}
	const params: Json = isObject(rawParams) ? rawParams : {};
	const imageCtx: ImageResolveContext = {
		...ctx.images,
		limits: spec.input,
		ossResolve: headerEnabled(ctx.headers, 'x-dashscope-ossresourceresolve'),
	};
	return spec.protocol === 'messages'
		? validateMessages(input, params, spec, ctx, imageCtx)
		: validateSynthesis(input, params, spec, imageCtx);
}

// ---------------------------------------------------------------- messages (2.7 / 2.6)

async function validateMessages(
	input: Json,
	params: Json,
	spec: ModelSpec,
	ctx: ValidationContext,
	imageCtx: ImageResolveContext,
): Promise<JobSpec> {
	const { texts, imageRefs } = readMessages(input);
	const is27 = spec.id !== 'wan2.6-image';
	if (texts.length === 0) throw invalidParameter('The text prompt is required: add one {"text": "..."} item to the message content.');
	if (texts.length > 1) {
		// 2.6 documents exactly one text; several on 2.7 is undocumented (UNCONFIRMED: strict, reject).
		throw invalidParameter('The message content must contain exactly one text item.');
	}
	const { prompt, truncated } = checkPrompt(texts[0], 'text', spec);

	const watermark = optBool(params, 'watermark', false);
	const seedInfo = readSeed(params);
	let imageCount: number;
	let sequential = false;
	let interleave = false;
	let promptExtend = false;
	let negativePrompt: string | undefined;
	let stream = false;
	let boxes: number[][][] | undefined;
	const effective: Json = { watermark, seed: seedInfo.seed };

	if (is27) {
		sequential = optBool(params, 'enable_sequential', false);
		if (imageRefs.length > 9) throw invalidParameter(`Too many input images (${imageRefs.length}); at most 9 are supported.`);
		imageCount = sequential ? optInt(params, 'n', 1, 12, 12) : optInt(params, 'n', 1, 4, 1);
		// thinking_mode: documented as meaningful only with 0 images and set mode off; not documented as an
		// error otherwise, so it is accepted and ignored there. JAVA types it String, so "true"/"false" pass.
		const thinking = readThinking(params);
		effective.enable_sequential = sequential;
		effective.thinking_mode = thinking && imageRefs.length === 0 && !sequential;
		const palette = readColorPalette(params);
		// color_palette is "set mode off only": with set mode on it is ignored (UNCONFIRMED: not documented as an error).
		if (palette && !sequential) effective.color_palette = palette;
		boxes = readBboxShape(params, imageRefs.length);
	} else {
		interleave = optBool(params, 'enable_interleave', false);
		if (interleave) {
			if (imageRefs.length > 1) throw invalidParameter(`Too many input images (${imageRefs.length}); enable_interleave=true accepts 0 or 1.`);
			if (params.n !== undefined && params.n !== null) {
				if (typeof params.n !== 'number' || !Number.isInteger(params.n)) throw invalidParameter('Parameter n must be an integer.');
				// Documented message (D27/D26): interleave produces one "prompt" of up to max_images images.
				if (params.n !== 1) throw invalidParameter('num_images_per_prompt must be 1');
			}
			imageCount = optInt(params, 'max_images', 1, 5, 5); // upper bound; the emulator produces exactly this many
			stream = optBool(params, 'stream', false);
			if (ctx.route === 'sync-generation') {
				if (!stream) throw invalidParameter('Synchronous calls with enable_interleave=true require parameters.stream=true (SSE).');
				if (!headerEnabled(ctx.headers, 'x-dashscope-sse')) {
					// UNCONFIRMED: stream=true without the SSE header is treated as an error.
					throw invalidParameter('Streaming output requires the header X-DashScope-Sse: enable.');
				}
			}
			effective.max_images = imageCount;
		} else {
			if (imageRefs.length < 1) {
				throw invalidParameter('At least one input image is required when enable_interleave=false (image editing mode).');
			}
			if (imageRefs.length > 4) throw invalidParameter(`Too many input images (${imageRefs.length}); at most 4 are supported.`);
			imageCount = optInt(params, 'n', 1, 4, 4);
			promptExtend = optBool(params, 'prompt_extend', true);
			effective.prompt_extend = promptExtend;
		}
		negativePrompt = readNegativePrompt(params.negative_prompt, 'negative_prompt');
		effective.enable_interleave = interleave;
	}
	effective.n = imageCount;

	const mode = sizeModeFor(spec.id, imageRefs.length, interleave);
	const parsedSize = parseSize(params.size, mode, { sequential, model: spec.id });
	const inputs = await resolveAll(imageRefs, imageCtx);
	if (is27) checkBboxBounds(params.bbox_list, inputs);
	const { width, height } = outputSize(parsedSize, mode, inputs[inputs.length - 1]);
	effective.size = sizeLabel(parsedSize, width, height);

	return {
		model: spec,
		prompt,
		promptTruncated: truncated,
		negativePrompt,
		inputs,
		boxes,
		imageCount,
		width,
		height,
		seed: seedInfo.seed,
		seedGenerated: seedInfo.generated,
		watermark,
		sequential,
		interleave,
		promptExtend,
		stream,
		params: effective,
	};
}

function readMessages(input: Json): { texts: string[]; imageRefs: unknown[] } {
	const messages = input.messages;
	if (messages === undefined || messages === null) throw invalidParameter('Required parameter input.messages is missing.');
	if (!Array.isArray(messages) || messages.length !== 1) {
		throw invalidParameter('input.messages must be an array with exactly one user message.');
	}
	const message = messages[0];
	if (!isObject(message) || message.role !== 'user') {
		throw invalidParameter('input.messages[0].role must be "user".');
	}
	const content = message.content;
	if (!Array.isArray(content) || content.length === 0) {
		throw invalidParameter('input.messages[0].content must be a non-empty array of {"text"} and {"image"} items.');
	}
	const texts: string[] = [];
	const imageRefs: unknown[] = [];
	content.forEach((item, i) => {
		if (!isObject(item)) throw invalidParameter(`input.messages[0].content[${i}] must be an object.`);
		const hasText = 'text' in item;
		const hasImage = 'image' in item;
		if (hasText === hasImage) {
			throw invalidParameter(`input.messages[0].content[${i}] must contain exactly one of "text" or "image".`);
		}
		if (hasText) {
			if (typeof item.text !== 'string') throw invalidParameter(`input.messages[0].content[${i}].text must be a string.`);
			texts.push(item.text);
		} else {
			imageRefs.push(item.image);
		}
	});
	return { texts, imageRefs };
}

// ---------------------------------------------------------------- synthesis (2.5)

async function validateSynthesis(input: Json, params: Json, spec: ModelSpec, imageCtx: ImageResolveContext): Promise<JobSpec> {
	if (input.prompt === undefined || input.prompt === null) throw invalidParameter('Required parameter input.prompt is missing.');
	if (typeof input.prompt !== 'string') throw invalidParameter('Parameter input.prompt must be a string.');
	const { prompt, truncated } = checkPrompt(input.prompt, 'input.prompt', spec);
	const negativePrompt = readNegativePrompt(input.negative_prompt, 'input.negative_prompt');
	const images = input.images;
	if (images === undefined || images === null) throw invalidParameter('Required parameter input.images is missing.');
	if (!Array.isArray(images)) throw invalidParameter('Parameter input.images must be an array.');
	if (images.length < 1 || images.length > 3) {
		throw invalidParameter(`input.images must contain 1 to 3 images (got ${images.length}).`);
	}
	const n = optInt(params, 'n', 1, 4, 4);
	const promptExtend = optBool(params, 'prompt_extend', true);
	const watermark = optBool(params, 'watermark', false);
	const seedInfo = readSeed(params);
	const parsedSize = parseSize(params.size, '2.5', { sequential: false, model: spec.id });
	const inputs = await resolveAll(images, imageCtx);
	const { width, height } = outputSize(parsedSize, '2.5', inputs[inputs.length - 1]);
	return {
		model: spec,
		prompt,
		promptTruncated: truncated,
		negativePrompt,
		inputs,
		imageCount: n,
		width,
		height,
		seed: seedInfo.seed,
		seedGenerated: seedInfo.generated,
		watermark,
		sequential: false,
		interleave: false,
		promptExtend,
		stream: false,
		params: { n, size: `${width}*${height}`, prompt_extend: promptExtend, watermark, seed: seedInfo.seed },
	};
}

// ---------------------------------------------------------------- field helpers

function checkPrompt(text: string, field: string, spec: ModelSpec): { prompt: string; truncated: boolean } {
	if (text.trim().length === 0) throw invalidParameter(`Parameter ${field} must not be empty.`);
	const length = charLength(text);
	if (length <= spec.maxPromptChars) return { prompt: text, truncated: false };
	if (spec.truncatePrompt) {
		// 2.7: "≤5000 characters, excess silently cut" (D27).
		return { prompt: [...text].slice(0, spec.maxPromptChars).join(''), truncated: true };
	}
	throw invalidParameter(`Parameter ${field} is too long (${length} characters); the maximum is ${spec.maxPromptChars}.`);
}

function readNegativePrompt(value: unknown, field: string): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'string') throw invalidParameter(`Parameter ${field} must be a string.`);
	if (charLength(value) > NEGATIVE_PROMPT_MAX) {
		throw invalidParameter(`Parameter ${field} is too long (${charLength(value)} characters); the maximum is ${NEGATIVE_PROMPT_MAX}.`);
	}
	return value;
}

function optBool(params: Json, key: string, fallback: boolean): boolean {
	const value = params[key];
	if (value === undefined || value === null) return fallback;
	if (typeof value !== 'boolean') throw invalidParameter(`Parameter ${key} must be a boolean.`);
	return value;
}

function optInt(params: Json, key: string, min: number, max: number, fallback: number): number {
	const value = params[key];
	if (value === undefined || value === null) return fallback;
	if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidParameter(`Parameter ${key} must be an integer.`);
	if (value < min || value > max) throw invalidParameter(`Parameter ${key} must be in [${min}, ${max}] (got ${value}).`);
	return value;
}

function readSeed(params: Json): { seed: number; generated: boolean } {
	const value = params.seed;
	if (value === undefined || value === null) return { seed: randomInt(0, SEED_MAX), generated: true };
	// The official Java example sends the seed as a string ("12345"), so integer strings are accepted.
	const num = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
	if (typeof num !== 'number' || !Number.isInteger(num)) throw invalidParameter('Parameter seed must be an integer.');
	if (num < 0 || num > SEED_MAX) throw invalidParameter(`Parameter seed must be in [0, ${SEED_MAX}] (got ${num}).`);
	return { seed: num, generated: false };
}

function readThinking(params: Json): boolean {
	const value = params.thinking_mode;
	if (value === undefined || value === null) return true;
	if (typeof value === 'boolean') return value;
	if (value === 'true' || value === 'false') return value === 'true';
	throw invalidParameter('Parameter thinking_mode must be a boolean.');
}

function readColorPalette(params: Json): Array<{ hex: string; ratio: string }> | undefined {
	const value = params.color_palette;
	if (value === undefined || value === null) return undefined;
	if (!Array.isArray(value) || value.length < 3 || value.length > 10) {
		throw invalidParameter('Parameter color_palette must be an array of 3 to 10 {"hex", "ratio"} entries.');
	}
	let hundredths = 0;
	value.forEach((entry, i) => {
		if (!isObject(entry)) throw invalidParameter(`color_palette[${i}] must be an object with hex and ratio.`);
		if (typeof entry.hex !== 'string' || !/^#[0-9A-Fa-f]{6}$/.test(entry.hex)) {
			throw invalidParameter(`color_palette[${i}].hex must be a color like "#C2D1E6".`);
		}
		// Docs: ratio is a string with 2 decimals ("23.51%"). JAVA models it as a Double (CONFLICT): strict, strings only.
		const m = typeof entry.ratio === 'string' ? /^(\d{1,3})\.(\d{2})%$/.exec(entry.ratio) : null;
		if (!m) throw invalidParameter(`color_palette[${i}].ratio must be a percentage string with 2 decimals, e.g. "23.51%".`);
		const part = Number(m[1]) * 100 + Number(m[2]);
		if (part <= 0 || part > 10000) throw invalidParameter(`color_palette[${i}].ratio must be between 0.01% and 100.00%.`);
		hundredths += part;
	});
	if (hundredths !== 10000) {
		throw invalidParameter(`The color_palette ratios must sum to 100.00% (got ${(hundredths / 100).toFixed(2)}%).`);
	}
	return value as Array<{ hex: string; ratio: string }>;
}

/** bbox_list structure: outer length = image count, ≤2 boxes per image, [x1, y1, x2, y2] integers. */
function readBboxShape(params: Json, imageCount: number): number[][][] | undefined {
	const value = params.bbox_list;
	if (value === undefined || value === null) return undefined;
	if (!Array.isArray(value)) throw invalidParameter('Parameter bbox_list must be an array with one list of boxes per input image.');
	if (value.length !== imageCount) {
		throw invalidParameter(`The length of bbox_list (${value.length}) must equal the number of input images (${imageCount}).`);
	}
	value.forEach((boxes, i) => {
		if (!Array.isArray(boxes)) throw invalidParameter(`bbox_list[${i}] must be an array of boxes ([] for none).`);
		if (boxes.length > 2) throw invalidParameter(`bbox_list[${i}] has ${boxes.length} boxes; at most 2 boxes per image are supported.`);
		boxes.forEach((box, j) => {
			if (!Array.isArray(box) || box.length !== 4 || !box.every((c) => typeof c === 'number' && Number.isInteger(c))) {
				throw invalidParameter(`bbox_list[${i}][${j}] must be [x1, y1, x2, y2] with integer pixel coordinates.`);
			}
			const [x1, y1, x2, y2] = box as number[];
			if (x1 < 0 || y1 < 0 || x1 >= x2 || y1 >= y2) {
				throw invalidParameter(`bbox_list[${i}][${j}] is invalid: coordinates must satisfy 0 <= x1 < x2 and 0 <= y1 < y2.`);
			}
		});
	});
	return value as number[][][];
}

/** Boxes must lie inside the real pixel size of their image. */
function checkBboxBounds(value: unknown, inputs: ResolvedImage[]): void {
	if (!Array.isArray(value)) return;
	value.forEach((boxes: number[][], i) => {
		const img = inputs[i];
		boxes.forEach((box, j) => {
			if (box[2] > img.width || box[3] > img.height) {
				throw invalidParameter(
					`bbox_list[${i}][${j}] [${box.join(', ')}] lies outside input image ${i + 1} (${img.width}*${img.height}).`,
				);
			}
		});
	});
}

/** Resolves all images concurrently; reports the first failure in input order (deterministic). */
async function resolveAll(refs: unknown[], ctx: ImageResolveContext): Promise<ResolvedImage[]> {
	const settled = await Promise.allSettled(refs.map((ref, i) => resolveImage(ref, `input image ${i + 1}`, ctx)));
	return settled.map((s) => {
		if (s.status === 'rejected') throw s.reason;
		return s.value;
	});
}

function sizeLabel(parsed: ParsedSize | undefined, width: number, height: number): string {
	return parsed?.kind === 'tier' ? parsed.tier : `${width}*${height}`;
}
