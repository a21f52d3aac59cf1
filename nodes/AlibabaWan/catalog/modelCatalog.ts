/**
 * The single source of truth for every Wan model this node drives: one entry per model holding
 * every limit (DASHSCOPE_API.md §4, §7, §10). The UI options and the zod validation both derive
 * from it; nothing else in the node may branch on a model id. How a service reaches a model (routes,
 * protocols, regions) lives in that service's folder (services/<id>/models.ts).
 */

export type ModelId = 'wan2.7-image-pro' | 'wan2.7-image' | 'wan2.6-image' | 'wan2.5-i2i-preview';

export type ImageOperation = 'generateImage' | 'editImage' | 'fuseImages' | 'generateImageSet';

export type InputImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

export interface Range {
	min: number;
	max: number;
}

/** Output size rules for one (model, operation): named tiers and/or explicit `W*H`. */
export interface SizeRule {
	/** e.g. ['1K', '2K', '4K']; empty = only `W*H` (or the service default). */
	tiers: string[];
	/** Total pixels allowed for an explicit `W*H`. */
	customPixels: Range;
	/** Width / height ratio allowed for an explicit `W*H`. */
	customAspect: Range;
	/** What the service does when size is omitted (shown in the UI). */
	defaultDescription: string;
	/** Each of width and height, in pixels, for an explicit `W*H` (a service's rule; the models limit total pixels). */
	side?: Range;
	/** Width and height must be multiples of this (a service's rule). */
	step?: number;
}

export interface OperationSpec {
	/** How many input images this operation takes on this model. */
	images: Range;
	/** Images per task (`n`): the range the API accepts and the default this node sends (cost control). */
	n: Range & { default: number; apiDefault: number };
	size: SizeRule;
	/** Region boxes (`bbox_list`), per input image. */
	boxesPerImage?: number;
	thinkingMode?: boolean;
	colorPalette?: boolean;
	/** 2.6: which request mode this operation uses (`enable_interleave`). */
	interleave?: boolean;
	/** 2.6 interleave: `max_images` range, the default this node sends (cost control) and the API's own. */
	maxImages?: Range & { default: number; apiDefault: number };
	/** 2.7 image set (`enable_sequential`). */
	sequential?: boolean;
	/** `prompt_extend` (prompt rewriting) is accepted in this mode. */
	promptExtend?: boolean;
}

export interface InputImageLimits {
	formats: InputImageFormat[];
	/** Each of width and height, in pixels. */
	side: Range;
	maxFileBytes: number;
	/** Width / height; undefined = not limited. */
	aspect?: Range;
}

export interface ModelEntry {
	id: ModelId;
	displayName: string;
	description: string;
	promptMaxLength: number;
	/** Shortest prompt accepted (a service's rule, counted in code points); 1 when absent. */
	promptMinLength?: number;
	/** `negative_prompt` max length, when the model has it. */
	negativePromptMaxLength?: number;
	seed: boolean;
	watermark: boolean;
	inputImages: InputImageLimits;
	operations: Partial<Record<ImageOperation, OperationSpec>>;
}

const MB = 1024 * 1024;
const px = (side: number) => side * side;

const wan27Inputs: InputImageLimits = {
	formats: ['jpeg', 'png', 'bmp', 'webp'],
	side: { min: 240, max: 8000 },
	maxFileBytes: 20 * MB,
	aspect: { min: 1 / 8, max: 8 },
};

/** 2.7 with input images (and wan2.7-image always): 1K/2K, custom up to 2048². */
const wan27SizeWithImages: SizeRule = {
	tiers: ['1K', '2K'],
	customPixels: { min: px(768), max: px(2048) },
	customAspect: { min: 1 / 8, max: 8 },
	defaultDescription: '2K, keeping the aspect ratio of the last input image',
};

/** Explicit W*H only (2.5, 2.6 mixed output): 768² to 1280² pixels, aspect 1:4 to 4:1. */
const upTo1280 = (defaultDescription: string): SizeRule => ({
	tiers: [],
	customPixels: { min: px(768), max: px(1280) },
	customAspect: { min: 1 / 4, max: 4 },
	defaultDescription,
});

/** 2.6 editing: 1K (about 1280², the default) or 2K, or W*H up to 2048², aspect 1:4 to 4:1. */
const wan26EditSize = (defaultDescription: string): SizeRule => ({
	tiers: ['1K', '2K'],
	customPixels: { min: px(768), max: px(2048) },
	customAspect: { min: 1 / 4, max: 4 },
	defaultDescription,
});

function wan27Operations(pro: boolean): Partial<Record<ImageOperation, OperationSpec>> {
	const textToImageSize: SizeRule = pro
		? {
				tiers: ['1K', '2K', '4K'],
				customPixels: { min: px(768), max: px(4096) },
				customAspect: { min: 1 / 8, max: 8 },
				defaultDescription: '2K, square',
			}
		: { ...wan27SizeWithImages, defaultDescription: '2K, square' };
	return {
		generateImage: {
			images: { min: 0, max: 0 },
			n: { min: 1, max: 4, default: 1, apiDefault: 1 },
			size: textToImageSize,
			thinkingMode: true,
			colorPalette: true,
		},
		editImage: {
			images: { min: 1, max: 1 },
			n: { min: 1, max: 4, default: 1, apiDefault: 1 },
			size: wan27SizeWithImages,
			boxesPerImage: 2,
			colorPalette: true,
		},
		fuseImages: {
			images: { min: 2, max: 9 },
			n: { min: 1, max: 4, default: 1, apiDefault: 1 },
			size: wan27SizeWithImages,
			boxesPerImage: 2,
			colorPalette: true,
		},
		generateImageSet: {
			images: { min: 0, max: 9 },
			// The API treats n as an upper bound (default 12); we default to 4 so a set does not
			// silently bill twelve images.
			n: { min: 1, max: 12, default: 4, apiDefault: 12 },
			// 4K exists only with set mode off, so a set is capped at 2K even without inputs.
			size: { ...wan27SizeWithImages, defaultDescription: '2K' },
			sequential: true,
		},
	};
}

export const modelCatalog: Record<ModelId, ModelEntry> = {
	'wan2.7-image-pro': {
		id: 'wan2.7-image-pro',
		displayName: 'Wan 2.7 Image Pro',
		description: 'Highest quality; text-to-image up to 4K, up to 9 reference images, region boxes, image sets',
		promptMaxLength: 5000,
		seed: true,
		watermark: true,
		inputImages: wan27Inputs,
		operations: wan27Operations(true),
	},
	'wan2.7-image': {
		id: 'wan2.7-image',
		displayName: 'Wan 2.7 Image',
		description: 'Faster 2.7 model; up to 2K, up to 9 reference images, region boxes, image sets',
		promptMaxLength: 5000,
		seed: true,
		watermark: true,
		inputImages: wan27Inputs,
		operations: wan27Operations(false),
	},
	'wan2.6-image': {
		id: 'wan2.6-image',
		displayName: 'Wan 2.6 Image',
		description: 'Editing with 1–4 reference images; text-to-image through mixed text+image output; all regions',
		promptMaxLength: 2000,
		negativePromptMaxLength: 500,
		seed: true,
		watermark: true,
		inputImages: {
			formats: ['jpeg', 'png', 'bmp', 'webp'],
			// CONFLICT in the docs ([384, 5000] in Dec 2025): the current revision says [240, 8000].
			side: { min: 240, max: 8000 },
			maxFileBytes: 10 * MB,
		},
		operations: {
			generateImage: {
				// Text-to-image on 2.6 is its interleave mode: optional single reference image, n must be 1.
				images: { min: 0, max: 1 },
				n: { min: 1, max: 1, default: 1, apiDefault: 1 },
				size: upTo1280('1280*1280, or the reference image size scaled to at most 1280²'),
				interleave: true,
				maxImages: { min: 1, max: 5, default: 1, apiDefault: 5 },
			},
			editImage: {
				images: { min: 1, max: 1 },
				n: { min: 1, max: 4, default: 1, apiDefault: 4 },
				size: wan26EditSize('1K (about 1280²), keeping the input aspect ratio'),
				promptExtend: true,
			},
			fuseImages: {
				images: { min: 2, max: 4 },
				n: { min: 1, max: 4, default: 1, apiDefault: 4 },
				size: wan26EditSize('1K (about 1280²), keeping the last input aspect ratio'),
				promptExtend: true,
			},
		},
	},
	'wan2.5-i2i-preview': {
		id: 'wan2.5-i2i-preview',
		displayName: 'Wan 2.5 Image-to-Image (Preview)',
		description: 'Editing and fusion of 1–3 images',
		promptMaxLength: 2000,
		negativePromptMaxLength: 500,
		seed: true,
		watermark: true,
		inputImages: {
			formats: ['jpeg', 'png', 'bmp', 'webp'],
			side: { min: 384, max: 5000 },
			maxFileBytes: 10 * MB,
			aspect: { min: 1 / 4, max: 4 },
		},
		operations: {
			editImage: {
				images: { min: 1, max: 1 },
				n: { min: 1, max: 4, default: 1, apiDefault: 4 },
				size: upTo1280('about 1280², at the aspect ratio of the input image'),
				promptExtend: true,
			},
			fuseImages: {
				images: { min: 2, max: 3 },
				n: { min: 1, max: 4, default: 1, apiDefault: 4 },
				size: upTo1280('about 1280², at the aspect ratio of the last input image'),
				promptExtend: true,
			},
		},
	},
};

export const modelIds = Object.keys(modelCatalog) as ModelId[];

/** Seed range shared by every model. */
export const seedRange: Range = { min: 0, max: 2147483647 };

/** `color_palette`: 3–10 colours, ratios as percentage strings summing to 100.00%. */
export const colorPaletteLength: Range = { min: 3, max: 10 };

/**
 * Ranges of the run options (the UI's typeOptions and the checks before submitting both use these).
 * Timeout: at most the 24 h a task ID stays valid. Concurrency: items in flight at once.
 */
export const runOptionRanges = {
	timeoutSeconds: { min: 1, max: 86400 },
	pollIntervalSeconds: { min: 0, max: 600 },
	concurrency: { min: 1, max: 20 },
} satisfies Record<string, Range>;

export function getModel(id: string): ModelEntry {
	const model = (modelCatalog as Record<string, ModelEntry | undefined>)[id];
	if (!model) throw new Error(`Unknown model "${id}". Known models: ${modelIds.join(', ')}`);
	return model;
}

export function getOperationSpec(model: ModelEntry, operation: ImageOperation): OperationSpec {
	const spec = model.operations[operation];
	if (!spec) throw new Error(`${model.displayName} does not support ${operation}`);
	return spec;
}

/** Models that offer an operation, in catalog order. */
export function modelsFor(operation: ImageOperation): ModelEntry[] {
	return modelIds.map((id) => modelCatalog[id]).filter((model) => model.operations[operation]);
}

/** Models (of those offering `operation`) for which `predicate` holds: drives `displayOptions`. */
export function modelIdsWhere(
	operation: ImageOperation,
	predicate: (spec: OperationSpec, model: ModelEntry) => boolean,
): ModelId[] {
	return modelsFor(operation)
		.filter((model) => predicate(model.operations[operation]!, model))
		.map((model) => model.id);
}
