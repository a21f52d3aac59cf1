/**
 * Strict checks of a `POST {base}/images/generations` body (seed 002 limits, GATEWAY_API.md §2–§5,
 * §11), in a fixed order so each bad field gives one predictable error: body shape, unknown fields,
 * model, prompt, image field shape and count, n, size, booleans, seed, response_format, bbox_list,
 * color_palette, then the image bytes (downloads last). Every failure names its field in `param`.
 */
import { GatewayError, invalid } from './errors';
import { INPUT_LIMITS, resolveInput, type GatewayInput } from './inputs';
import type { GatewayDialect } from './types';

export type GatewayModel = 'wan2.7-image' | 'wan2.7-image-pro';
export const GATEWAY_MODELS: readonly GatewayModel[] = ['wan2.7-image', 'wan2.7-image-pro'];

export const PROMPT_MAX_CHARS = 5000;
export const SEED_MAX = 2147483647;
/** Tier → side of the square text-to-image output (G002's size table). */
export const TIERS: Record<string, number> = { '1K': 1024, '2K': 2048, '4K': 4096 };
/** Explicit sizes: total pixels [768², 2048²] (4096² for Pro text-to-image), aspect 1:8–8:1 (DS, AMY). */
const MIN_PIXELS = 768 * 768;

export interface GenerationJob {
	requestedModel: string;
	model: GatewayModel;
	prompt: string;
	inputs: GatewayInput[];
	n: number;
	size: string;
	width: number;
	height: number;
	enableSequential: boolean;
	thinkingMode: boolean;
	watermark: boolean;
	seed: number;
	seedGenerated: boolean;
	responseFormat: 'url' | 'b64_json';
	boxes?: number[][][];
}

export interface ValidationContext {
	dialect: GatewayDialect;
	aliases: Record<string, GatewayModel>;
}

const COMMON_FIELDS = ['model', 'prompt', 'n', 'size', 'enable_sequential', 'thinking_mode', 'watermark', 'seed', 'response_format', 'bbox_list', 'color_palette'];

export async function validateGeneration(body: unknown, ctx: ValidationContext): Promise<GenerationJob> {
	const { dialect } = ctx;
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new GatewayError(400, 'invalid_request_body', 'The request body must be a JSON object.');
	}
	const b = body as Record<string, unknown>;
	if (dialect.unknownFields === 'reject') {
		const known = new Set([...COMMON_FIELDS, dialect.imageField]);
		const unknown = Object.keys(b).find((k) => !known.has(k));
		if (unknown !== undefined) {
			const hint = unknown === 'image' || unknown === 'images' ? ` This gateway takes input images in '${dialect.imageField}'.` : '';
			throw new GatewayError(400, 'unknown_parameter', `Unrecognized request argument supplied: ${unknown}.${hint}`, unknown);
		}
	}

	// model
	if (b.model === undefined) throw invalid('model', "Missing required parameter: 'model'.");
	if (typeof b.model !== 'string') throw invalid('model', "'model' must be a string.");
	const model = (GATEWAY_MODELS as readonly string[]).includes(b.model) ? (b.model as GatewayModel) : ctx.aliases[b.model];
	if (!model) {
		throw new GatewayError(404, 'model_not_found', `The model '${b.model}' does not exist; use ${GATEWAY_MODELS.join(' or ')}.`, 'model');
	}

	// image field shape (before prompt: whether the prompt may be empty depends on it)
	const refs = imageRefs(b[dialect.imageField], dialect);

	// prompt
	const promptOptional = dialect.promptOptionalWithImages && refs.length > 0;
	if (b.prompt === undefined && !promptOptional) throw invalid('prompt', "Missing required parameter: 'prompt'.");
	if (b.prompt !== undefined && typeof b.prompt !== 'string') throw invalid('prompt', "'prompt' must be a string.");
	const prompt = (b.prompt as string | undefined) ?? '';
	if (prompt.trim().length === 0 && !promptOptional) throw invalid('prompt', "'prompt' must not be empty.");
	const chars = [...prompt].length;
	if (chars > PROMPT_MAX_CHARS) throw invalid('prompt', `'prompt' is ${chars} characters; the limit is ${PROMPT_MAX_CHARS}.`);

	// enable_sequential first: it sets n's range and default
	const enableSequential = bool(b, 'enable_sequential', false);
	const nMax = enableSequential ? 12 : 4;
	let n = enableSequential ? dialect.defaultNSequential : dialect.defaultN;
	if (b.n !== undefined) {
		if (typeof b.n !== 'number' || !Number.isInteger(b.n)) throw invalid('n', "'n' must be an integer.");
		if (b.n < 1 || b.n > nMax) {
			throw invalid('n', `'n' is ${b.n}; with enable_sequential ${enableSequential ? 'on' : 'off'} it must be 1 to ${nMax}.`);
		}
		n = b.n;
	}

	const { size, width, height } = parseSize(b.size, dialect, { model, images: refs, enableSequential });
	const thinkingMode = bool(b, 'thinking_mode', dialect.defaultThinkingMode);
	const watermark = bool(b, 'watermark', false);

	let seed = Math.floor(Math.random() * (SEED_MAX + 1));
	const seedGenerated = b.seed === undefined;
	if (!seedGenerated) {
		if (typeof b.seed !== 'number' || !Number.isInteger(b.seed) || b.seed < 0 || b.seed > SEED_MAX) {
			throw invalid('seed', `'seed' must be an integer from 0 to ${SEED_MAX}.`);
		}
		seed = b.seed;
	}

	let responseFormat: GenerationJob['responseFormat'] = 'url';
	if (b.response_format !== undefined) {
		if (b.response_format !== 'url' && b.response_format !== 'b64_json') throw invalid('response_format', "'response_format' must be 'url' or 'b64_json'.");
		responseFormat = b.response_format;
	}

	const boxes = b.bbox_list === undefined ? undefined : checkBoxes(b.bbox_list, refs.length);
	if (b.color_palette !== undefined) checkPalette(b.color_palette, enableSequential);

	const inputs: GatewayInput[] = [];
	for (let i = 0; i < refs.length; i++) inputs.push(await resolveInput(refs[i], dialect.imageField, i));
	const out = outputSize(size, width, height, inputs);
	return {
		requestedModel: b.model,
		model,
		prompt,
		inputs,
		n,
		size,
		width: out.width,
		height: out.height,
		enableSequential,
		thinkingMode,
		watermark,
		seed,
		seedGenerated,
		responseFormat,
		boxes,
	};
}

function bool(b: Record<string, unknown>, field: string, fallback: boolean): boolean {
	const v = b[field];
	if (v === undefined) return fallback;
	if (typeof v !== 'boolean') throw invalid(field, `'${field}' must be true or false (a JSON boolean).`);
	return v;
}

function imageRefs(value: unknown, dialect: GatewayDialect): unknown[] {
	const field = dialect.imageField;
	if (value === undefined) return [];
	let refs: unknown[];
	if (field === 'image' && typeof value === 'string') refs = [value];
	else if (Array.isArray(value)) refs = value;
	else throw invalid(field, field === 'image' ? "'image' must be a string or an array of strings." : "'images' must be an array of strings.");
	if (refs.length === 0) throw invalid(field, `'${field}' must hold at least one image; leave it out for text-to-image.`);
	if (refs.length > INPUT_LIMITS.maxImages) throw invalid(field, `'${field}' has ${refs.length} images; the limit is ${INPUT_LIMITS.maxImages}.`);
	return refs;
}

interface SizeContext {
	model: GatewayModel;
	images: unknown[];
	enableSequential: boolean;
}

/** The requested size: a tier, or explicit pixels in the dialect's style, with the 4K/Pro rules. */
function parseSize(value: unknown, dialect: GatewayDialect, ctx: SizeContext): { size: string; width: number; height: number } {
	const size = value === undefined ? dialect.defaultSize : value;
	if (typeof size !== 'string') throw invalid('size', "'size' must be a string such as '2K' or " + example(dialect) + '.');
	const bigAllowed = ctx.model === 'wan2.7-image-pro' && ctx.images.length === 0 && !ctx.enableSequential;
	const why = 'only wan2.7-image-pro text-to-image (no input image, enable_sequential off) goes above 2048x2048';
	if (size in TIERS) {
		if (size === '4K' && !bigAllowed) throw invalid('size', `'size' 4K is not available here: ${why}.`);
		return { size, width: TIERS[size], height: TIERS[size] };
	}
	const sep = dialect.sizeStyle === 'WxH' ? 'x' : '*';
	const match = new RegExp(`^(\\d{2,5})\\${sep}(\\d{2,5})$`).exec(size);
	if (!match) throw invalid('size', `'size' is '${size}'; use 1K, 2K, 4K or pixels as ${example(dialect)}.`);
	const width = Number(match[1]);
	const height = Number(match[2]);
	const maxPixels = bigAllowed ? 4096 * 4096 : 2048 * 2048;
	if (width * height < MIN_PIXELS || width * height > maxPixels) {
		const limit = bigAllowed ? '4096x4096' : `2048x2048 (${why})`;
		throw invalid('size', `'size' ${size} has ${width * height} pixels; it must be between 768x768 and ${limit}.`);
	}
	if (width / height > 8 || height / width > 8) throw invalid('size', `'size' ${size} is outside the aspect ratios 1:8 to 8:1.`);
	return { size, width, height };
}

const example = (dialect: GatewayDialect): string => (dialect.sizeStyle === 'WxH' ? "'1536x1024'" : "'1536*1024'");

/** With input images a tier keeps the last input's aspect at about the tier's pixel count (DS §4). */
function outputSize(size: string, width: number, height: number, inputs: GatewayInput[]): { width: number; height: number } {
	if (!(size in TIERS) || inputs.length === 0) return { width, height };
	const last = inputs[inputs.length - 1];
	const total = width * height;
	const w = Math.round(Math.sqrt((total * last.width) / last.height));
	return { width: w, height: Math.round(total / w) };
}

function checkBoxes(value: unknown, imageCount: number): number[][][] {
	const fail = (why: string) => invalid('bbox_list', `'bbox_list' ${why}`);
	if (imageCount === 0) throw fail('needs input images.');
	if (!Array.isArray(value) || value.length !== imageCount) throw fail(`must be an array with one entry per input image (${imageCount}).`);
	return value.map((perImage: unknown, i) => {
		if (!Array.isArray(perImage) || perImage.length > 2) throw fail(`[${i}] must be an array of at most 2 boxes.`);
		return perImage.map((box: unknown, j) => {
			const ok = Array.isArray(box) && box.length === 4 && box.every((v) => Number.isInteger(v) && v >= 0);
			if (!ok || box[0] >= box[2] || box[1] >= box[3]) throw fail(`[${i}][${j}] must be [x1, y1, x2, y2] integers with x1 < x2 and y1 < y2.`);
			return box as number[];
		});
	});
}

function checkPalette(value: unknown, enableSequential: boolean): void {
	const fail = (why: string) => invalid('color_palette', `'color_palette' ${why}`);
	if (enableSequential) throw fail('is not available with enable_sequential.');
	if (!Array.isArray(value) || value.length < 3 || value.length > 10) throw fail('must be an array of 3 to 10 colours.');
	let sum = 0;
	value.forEach((entry: unknown, i) => {
		const e = entry as { hex?: unknown; ratio?: unknown };
		if (typeof e?.hex !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(e.hex)) throw fail(`[${i}].hex must be '#RRGGBB'.`);
		if (typeof e.ratio !== 'string' || !/^\d{1,3}\.\d{2}%$/.test(e.ratio)) throw fail(`[${i}].ratio must be a string like '23.51%'.`);
		sum += Math.round(Number(e.ratio.slice(0, -1)) * 100);
	});
	if (sum !== 10000) throw fail(`ratios must add up to 100.00% (they add up to ${(sum / 100).toFixed(2)}%).`);
}
