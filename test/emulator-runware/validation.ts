/**
 * `imageInference` checks for the two Wan 2.7 models, from RUNWARE_API.md §3–§4 alone. The first
 * violation refuses the task (one error per task). Where the reference is UNCONFIRMED the strict
 * reading is taken (README "UNCONFIRMED").
 */
import { randomInt } from 'node:crypto';

import { invalid, missing, unsupported, RunwareError } from './errors';
import { resolveReference, type ImageLookup, type ResolvedInput } from './inputs';
import type { OutputFormat } from './pictures';

export interface ModelRules {
	/** USD per image (3P, UNCONFIRMED). */
	price: number;
	promptMax: number;
	/** Largest side without / with reference images or set mode. */
	maxSide: number;
	maxSideWithReferences: number;
}

export const MODEL_IDS = ['alibaba:wan@2.7-image', 'alibaba:wan@2.7-image-pro'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

export function modelRules(proPromptMax: number): Record<ModelId, ModelRules> {
	return {
		'alibaba:wan@2.7-image': { price: 0.03, promptMax: 5000, maxSide: 2048, maxSideWithReferences: 2048 },
		'alibaba:wan@2.7-image-pro': { price: 0.075, promptMax: proPromptMax, maxSide: 4096, maxSideWithReferences: 2048 },
	};
}

export const PROMPT_MIN = 2;
export const SIDE_MIN = 768;
export const SIDE_STEP = 16;
export const SEED_MAX = 2147483647;
export const RESULTS_MAX = 20;
export const SET_RESULTS_MAX = 12;
export const REFERENCES_MAX = 9;
export const BOXES_PER_IMAGE_MAX = 2;
export const PALETTE_MIN = 3;
export const PALETTE_MAX = 10;
export const TTL_MIN = 60;

const TOP_KEYS = new Set([
	'taskType', 'taskUUID', 'model', 'positivePrompt', 'width', 'height', 'seed', 'numberResults', 'outputType', 'outputFormat',
	'outputQuality', 'includeCost', 'deliveryMethod', 'webhookURL', 'uploadEndpoint', 'ttl', 'safety', 'inputs', 'settings',
]);
/** Listed by the reference but not emulated: refused rather than silently ignored. */
const NOT_EMULATED = new Set(['webhookURL', 'uploadEndpoint']);
const SETTINGS_KEYS = new Set(['editRegions', 'sequential', 'thinking', 'colorPalette']);
const SAFETY_KEYS = new Set(['checkContent', 'mode']);
const OUTPUT_TYPES = ['URL', 'base64Data', 'dataURI'] as const;
const OUTPUT_FORMATS: readonly OutputFormat[] = ['JPG', 'PNG', 'WEBP'];
const DELIVERY = ['sync', 'async'] as const;
const SAFETY_MODES = ['none', 'fast'];

export interface InferenceJob {
	model: ModelId;
	prompt: string;
	width: number;
	height: number;
	numberResults: number;
	seeds: number[];
	seedGenerated: boolean;
	outputType: (typeof OUTPUT_TYPES)[number];
	outputFormat: OutputFormat;
	outputQuality: number;
	includeCost: boolean;
	/** USD per image when includeCost. */
	price: number;
	deliveryMethod: (typeof DELIVERY)[number];
	ttl?: number;
	/** `safety` was sent: results carry NSFWContent. */
	safety: boolean;
	inputs: ResolvedInput[];
	/** editRegions normalised to [x1, y1, x2, y2] lists, one per input. */
	boxes?: number[][][];
	sequential: boolean;
	thinking: boolean;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function intIn(task: Obj, key: string, min: number, max: number | undefined, fallback: number, required = false): number {
	const v = task[key];
	if (v === undefined) {
		if (required) throw missing(key);
		return fallback;
	}
	const range = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
	if (!isInt(v) || v < min || (max !== undefined && v > max)) {
		throw invalid(key, `Must be an integer ${range}.`, { type: 'integer', min, ...(max !== undefined ? { max } : {}) });
	}
	return v;
}

function bool(container: Obj, key: string, path: string, fallback: boolean): boolean {
	const v = container[key];
	if (v === undefined) return fallback;
	if (typeof v !== 'boolean') throw invalid(path, 'Must be a boolean.', { type: 'boolean' });
	return v;
}

function oneOf<T extends string>(task: Obj, key: string, path: string, allowed: readonly T[], fallback: T): T {
	const v = task[key];
	if (v === undefined) return fallback;
	if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
		throw invalid(path, `Must be one of: ${allowed.join(', ')}.`, { type: 'string' });
	}
	return v as T;
}

function checkKeys(container: Obj, allowed: ReadonlySet<string>, prefix: string): void {
	for (const key of Object.keys(container)) if (!allowed.has(key)) throw unsupported(`${prefix}${key}`);
}

export async function validateInference(task: Obj, rules: Record<ModelId, ModelRules>, lookup: ImageLookup): Promise<InferenceJob> {
	checkKeys(task, TOP_KEYS, '');
	for (const key of NOT_EMULATED) {
		if (task[key] !== undefined) throw unsupported(key, 'The emulator does not deliver to webhooks or upload endpoints.');
	}

	if (task.model === undefined) throw missing('model');
	if (typeof task.model !== 'string' || !(MODEL_IDS as readonly string[]).includes(task.model)) {
		throw invalid('model', `Unknown or unsupported model. Supported: ${MODEL_IDS.join(', ')}.`, { type: 'string' });
	}
	const model = task.model as ModelId;
	const rule = rules[model];

	if (task.positivePrompt === undefined) throw missing('positivePrompt');
	if (typeof task.positivePrompt !== 'string') throw invalid('positivePrompt', 'Must be a string.', { type: 'string' });
	const promptLength = [...task.positivePrompt].length;
	if (promptLength < PROMPT_MIN || promptLength > rule.promptMax) {
		throw new RunwareError(400, {
			...invalid('positivePrompt', '').item,
			code: 'invalidPositivePromptLength',
			message: `Invalid value for 'positivePrompt' parameter. Its length must be between ${PROMPT_MIN} and ${rule.promptMax} characters (got ${promptLength}).`,
			type: 'string',
			min: PROMPT_MIN,
			max: rule.promptMax,
		});
	}

	// inputs and settings come first: the size limits depend on them.
	let references: string[] = [];
	if (task.inputs !== undefined) {
		if (!isObject(task.inputs)) throw invalid('inputs', 'Must be an object.', { type: 'object' });
		checkKeys(task.inputs, new Set(['referenceImages']), 'inputs.');
		const refs = task.inputs.referenceImages;
		if (refs !== undefined) {
			if (!Array.isArray(refs) || refs.length < 1 || refs.length > REFERENCES_MAX || !refs.every((r) => typeof r === 'string' && r.length > 0)) {
				throw invalid('inputs.referenceImages', `Must be an array of 1 to ${REFERENCES_MAX} non-empty strings.`, {
					type: 'array',
					min: 1,
					max: REFERENCES_MAX,
				});
			}
			references = refs as string[];
		}
	}
	let settings: Obj = {};
	if (task.settings !== undefined) {
		if (!isObject(task.settings)) throw invalid('settings', 'Must be an object.', { type: 'object' });
		checkKeys(task.settings, SETTINGS_KEYS, 'settings.');
		settings = task.settings;
	}
	const sequential = bool(settings, 'sequential', 'settings.sequential', false);
	const thinking = bool(settings, 'thinking', 'settings.thinking', true); // with references: accepted, ignored

	const maxSide = references.length || sequential ? rule.maxSideWithReferences : rule.maxSide;
	const side = (key: 'width' | 'height'): number => {
		const v = task[key];
		if (v === undefined) throw missing(key);
		if (!isInt(v) || v < SIDE_MIN || v > maxSide || v % SIDE_STEP !== 0) {
			const why = maxSide < rule.maxSide ? ` (${maxSide} with reference images or settings.sequential)` : '';
			throw invalid(key, `Must be an integer between ${SIDE_MIN} and ${maxSide}${why}, a multiple of ${SIDE_STEP}.`, {
				type: 'integer',
				min: SIDE_MIN,
				max: maxSide,
				multiplier: SIDE_STEP,
			});
		}
		return v;
	};
	const width = side('width');
	const height = side('height');

	const numberResults = intIn(task, 'numberResults', 1, sequential ? SET_RESULTS_MAX : RESULTS_MAX, 1);
	const seedGiven = task.seed !== undefined;
	const seed = intIn(task, 'seed', 0, SEED_MAX, 0);
	const outputType = oneOf(task, 'outputType', 'outputType', OUTPUT_TYPES, 'URL');
	const outputFormat = oneOf(task, 'outputFormat', 'outputFormat', OUTPUT_FORMATS, 'JPG');
	const outputQuality = intIn(task, 'outputQuality', 20, 99, 95);
	const includeCost = bool(task, 'includeCost', 'includeCost', false);
	const deliveryMethod = oneOf(task, 'deliveryMethod', 'deliveryMethod', DELIVERY, 'sync');
	let ttl: number | undefined;
	if (task.ttl !== undefined) {
		ttl = intIn(task, 'ttl', TTL_MIN, undefined, TTL_MIN);
		if (outputType !== 'URL') throw invalid('ttl', "Only applies when outputType is 'URL'.", { type: 'integer' });
	}
	if (task.safety !== undefined) {
		if (!isObject(task.safety)) throw invalid('safety', 'Must be an object.', { type: 'object' });
		checkKeys(task.safety, SAFETY_KEYS, 'safety.');
		bool(task.safety, 'checkContent', 'safety.checkContent', false);
		oneOf(task.safety, 'mode', 'safety.mode', SAFETY_MODES, 'none');
	}

	if (settings.colorPalette !== undefined) checkPalette(settings.colorPalette, sequential);
	const rawRegions = settings.editRegions;
	if (rawRegions !== undefined) {
		if (!references.length) throw invalid('settings.editRegions', 'Needs inputs.referenceImages (one list of boxes per reference image).');
		if (!Array.isArray(rawRegions) || rawRegions.length !== references.length) {
			throw invalid('settings.editRegions', `Must be an array with one entry per reference image (${references.length}); use [] for an image without boxes.`, {
				type: 'array',
			});
		}
	}

	const inputs: ResolvedInput[] = [];
	for (let i = 0; i < references.length; i++) inputs.push(await resolveReference(references[i], i, lookup));
	const boxes = rawRegions === undefined ? undefined : (rawRegions as unknown[]).map((list, i) => checkBoxes(list, i, inputs[i]));

	// Each result gets its own seed: the given one counting up, or random in the unsigned 32-bit range (R004).
	const seeds = Array.from({ length: numberResults }, (_, i) => (seedGiven ? seed + i : randomInt(0, 2 ** 32)));
	return {
		model,
		prompt: task.positivePrompt,
		width,
		height,
		numberResults,
		seeds,
		seedGenerated: !seedGiven,
		outputType,
		outputFormat,
		outputQuality,
		includeCost,
		price: rule.price,
		deliveryMethod,
		ttl,
		safety: task.safety !== undefined,
		inputs,
		boxes,
		sequential,
		thinking,
	};
}

/** 3–10 `{hex: "#RRGGBB", ratio: "NN.NN%"}` summing to 100.00%; not with settings.sequential. */
function checkPalette(value: unknown, sequential: boolean): void {
	const p = 'settings.colorPalette';
	if (sequential) throw invalid(p, 'Cannot be used with settings.sequential.');
	if (!Array.isArray(value) || value.length < PALETTE_MIN || value.length > PALETTE_MAX) {
		throw invalid(p, `Must be an array of ${PALETTE_MIN} to ${PALETTE_MAX} colours.`, { type: 'array', min: PALETTE_MIN, max: PALETTE_MAX });
	}
	let hundredths = 0;
	value.forEach((entry, i) => {
		if (!isObject(entry) || Object.keys(entry).some((k) => k !== 'hex' && k !== 'ratio')) {
			throw invalid(p, `Entry ${i} must be an object {hex, ratio}.`);
		}
		if (typeof entry.hex !== 'string' || !/^#[0-9A-Fa-f]{6}$/.test(entry.hex)) throw invalid(p, `Entry ${i}: hex must look like "#C2D1E6".`);
		const ratio = typeof entry.ratio === 'string' ? /^(\d{1,3})\.(\d{2})%$/.exec(entry.ratio) : null;
		if (!ratio) throw invalid(p, `Entry ${i}: ratio must be a percentage string with two decimals, like "23.51%".`);
		hundredths += Number(ratio[1]) * 100 + Number(ratio[2]);
	});
	if (hundredths !== 10000) throw invalid(p, `The ratios must sum to 100.00% (got ${(hundredths / 100).toFixed(2)}%).`);
}

/** One image's boxes: at most 2, each [x1, y1, x2, y2] or {x1, y1, x2, y2}, inside the image, x1<x2, y1<y2. */
function checkBoxes(list: unknown, index: number, image: ResolvedInput): number[][] {
	const p = 'settings.editRegions';
	if (!Array.isArray(list) || list.length > BOXES_PER_IMAGE_MAX) {
		throw invalid(p, `Entry ${index} must be an array of at most ${BOXES_PER_IMAGE_MAX} boxes.`);
	}
	return list.map((box: unknown, b) => {
		const at = `Entry ${index}, box ${b}`;
		const coords = Array.isArray(box) ? box : isObject(box) && Object.keys(box).length === 4 ? [box.x1, box.y1, box.x2, box.y2] : undefined;
		if (!coords || coords.length !== 4 || !coords.every((c) => isInt(c) && c >= 0)) {
			throw invalid(p, `${at} must be [x1, y1, x2, y2] or {x1, y1, x2, y2} with non-negative integers.`);
		}
		const [x1, y1, x2, y2] = coords as number[];
		if (x1 >= x2 || y1 >= y2) throw invalid(p, `${at}: needs x1 < x2 and y1 < y2.`);
		if (x2 > image.width || y2 > image.height) {
			throw invalid(p, `${at} lies outside reference image ${index} (${image.width}x${image.height} pixels).`);
		}
		return [x1, y1, x2, y2];
	});
}
