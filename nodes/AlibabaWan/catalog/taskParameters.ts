/**
 * The zod schema of an image task's parameters, derived from the model catalog for one
 * (model, operation). Every limit comes from the catalog entry; nothing here names a model.
 */
import { z } from 'zod';

import {
	colorPaletteLength,
	getOperationSpec,
	seedRange,
	type ImageOperation,
	type ModelEntry,
	type OperationSpec,
	type SizeRule,
} from './modelCatalog';

export interface ColorPaletteEntry {
	hex: string;
	/** Percentage as DashScope wants it: a string with two decimals, e.g. "23.51%". */
	ratio: string;
}

/** What the UI collected for one item, normalised; validated before anything is sent. */
export interface ImageTaskParameters {
	prompt: string;
	negativePrompt?: string;
	n: number;
	/** A tier ("2K") or "W*H"; undefined = the service default. */
	size?: string;
	seed?: number;
	watermark?: boolean;
	promptExtend?: boolean;
	thinkingMode?: boolean;
	colorPalette?: ColorPaletteEntry[];
	maxImages?: number;
}

const customSizePattern = /^\s*(\d+)\s*[*xX×]\s*(\d+)\s*$/;

/** "1024x768", "1024 * 768" → "1024*768"; "2k" → "2K"; anything else unchanged (the schema rejects it). */
export function normalizeSize(size: string | undefined): string | undefined {
	if (size === undefined) return undefined;
	const trimmed = size.trim();
	if (!trimmed) return undefined;
	const custom = customSizePattern.exec(trimmed);
	if (custom) return `${Number(custom[1])}*${Number(custom[2])}`;
	return trimmed.toUpperCase();
}

function sizeSchema(rule: SizeRule) {
	const { customPixels, customAspect } = rule;
	const tierList = rule.tiers.length ? rule.tiers.join(', ') : 'none';
	return z.string().superRefine((size, ctx) => {
		const custom = customSizePattern.exec(size);
		if (!custom) {
			if (!rule.tiers.includes(size)) {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `"${size}" is not a size this model accepts here (tiers: ${tierList}; or width*height): pick one of those, or Default`,
				});
			}
			return;
		}
		const width = Number(custom[1]);
		const height = Number(custom[2]);
		if (rule.side) {
			for (const [name, value] of [['width', width], ['height', height]] as const) {
				if (value < rule.side.min || value > rule.side.max) {
					ctx.addIssue({
						code: z.ZodIssueCode.custom,
						message: `${width}*${height}: the ${name} ${value} is outside ${rule.side.min} to ${rule.side.max} pixels, which this model accepts here: change the ${name}`,
					});
				}
			}
		}
		if (rule.step && (width % rule.step !== 0 || height % rule.step !== 0)) {
			const round = (value: number) => Math.max(rule.step!, Math.round(value / rule.step!) * rule.step!);
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `${width}*${height}: width and height must be multiples of ${rule.step} here: use e.g. ${round(width)}*${round(height)}`,
			});
		}
		const pixels = width * height;
		const aspect = width / height;
		if (pixels < customPixels.min || pixels > customPixels.max) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `${width}*${height} is ${pixels} pixels; this model accepts ${formatSquare(customPixels.min)} to ${formatSquare(customPixels.max)} pixels here: change the width or height`,
			});
		}
		if (aspect < customAspect.min - 1e-9 || aspect > customAspect.max + 1e-9) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `${width}*${height} has aspect ratio ${formatRatio(aspect)}; allowed ${formatRatio(customAspect.min)} to ${formatRatio(customAspect.max)}: make the sides less unequal`,
			});
		}
	});
}

const hexPattern = /^#[0-9A-Fa-f]{6}$/;
const ratioPattern = /^(\d{1,3})\.(\d{2})%$/;

const colorPaletteSchema = z
	.array(
		z.object({
			hex: z.string().regex(hexPattern, 'must be a colour like #C2D1E6'),
			ratio: z.string().regex(ratioPattern, 'must be a percentage with two decimals, like 23.51%'),
		}),
	)
	.min(colorPaletteLength.min, `needs at least ${colorPaletteLength.min} colours: add more with "Add Color"`)
	.max(colorPaletteLength.max, `takes at most ${colorPaletteLength.max} colours: remove some`)
	.superRefine((palette, ctx) => {
		// Integer hundredths avoid float drift: the ratios must add up to exactly 100.00%.
		const total = palette.reduce((sum, entry) => {
			const match = ratioPattern.exec(entry.ratio);
			return match ? sum + Number(match[1]) * 100 + Number(match[2]) : sum;
		}, 0);
		if (total !== 10000) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `ratios add up to ${(total / 100).toFixed(2)}%, they must add up to 100.00%: adjust the shares`,
			});
		}
	});

function notOffered(what: string) {
	return z.undefined({ invalid_type_error: `${what} is not available for this model and operation: remove it from Model Options` });
}

/**
 * Prompt lengths are counted in UTF-16 code units (JavaScript's .length): an emoji or a rare CJK character
 * counts as 2. DashScope does not say which unit it counts; this is the stricter of the two candidates
 * (code points count an emoji as 1), so a prompt that passes here is within the limit either way, and the
 * prompt and the negative prompt are counted the same way.
 */
export function textLength(text: string): number {
	return text.length;
}

function tooLong(text: string, model: string, max: number): string {
	return (
		`is ${textLength(text)} characters; ${model} accepts at most ${max} characters ` +
		'(counted in UTF-16 code units: most emoji count as 2): shorten it'
	);
}

/** The schema for one (model, operation), built from its catalog entry. */
export function taskParametersSchema(model: ModelEntry, operation: ImageOperation) {
	const spec: OperationSpec = getOperationSpec(model, operation);
	return z
		.object({
			prompt: z
				.string()
				.refine((prompt) => prompt.trim().length > 0, 'is required (it is empty): write what the image should show, or check that the expression gives text')
				.refine(
					(prompt) => textLength(prompt) <= model.promptMaxLength,
					(prompt) => ({ message: tooLong(prompt, model.displayName, model.promptMaxLength) }),
				)
				// A minimum is counted in code points, the stricter unit for a minimum (an emoji is one).
				.refine(
					(prompt) => prompt.trim().length === 0 || [...prompt].length >= (model.promptMinLength ?? 1),
					(prompt) => ({
						message: `is ${[...prompt].length} character(s); ${model.displayName} needs at least ${model.promptMinLength} here: write a longer prompt`,
					}),
				),
			negativePrompt:
				model.negativePromptMaxLength !== undefined
					? z
							.string()
							.refine(
								(text) => textLength(text) <= model.negativePromptMaxLength!,
								(text) => ({ message: tooLong(text, model.displayName, model.negativePromptMaxLength!) }),
							)
							.optional()
					: notOffered('A negative prompt'),
			n: z
				.number()
				.int('must be a whole number')
				.min(spec.n.min, `must be at least ${spec.n.min}: set ${spec.n.min} to ${spec.n.max}`)
				.max(spec.n.max, `must be at most ${spec.n.max} for ${model.displayName} here: set ${spec.n.min} to ${spec.n.max}`),
			size: sizeSchema(spec.size).optional(),
			seed: model.seed
				? z
						.number()
						.int('must be a whole number')
						.min(seedRange.min, `must be between ${seedRange.min} and ${seedRange.max}: pick a whole number in that range`)
						.max(seedRange.max, `must be between ${seedRange.min} and ${seedRange.max}: pick a whole number in that range`)
						.optional()
				: notOffered('Seed'),
			watermark: model.watermark ? z.boolean().optional() : notOffered('Watermark'),
			promptExtend: spec.promptExtend ? z.boolean().optional() : notOffered('Prompt rewriting'),
			thinkingMode: spec.thinkingMode ? z.boolean().optional() : notOffered('Thinking mode'),
			colorPalette: spec.colorPalette ? colorPaletteSchema.optional() : notOffered('A colour palette'),
			maxImages: spec.maxImages
				? z
						.number()
						.int('must be a whole number')
						.min(spec.maxImages.min, `must be at least ${spec.maxImages.min}: set ${spec.maxImages.min} to ${spec.maxImages.max}`)
						.max(spec.maxImages.max, `must be at most ${spec.maxImages.max}: set ${spec.maxImages.min} to ${spec.maxImages.max}`)
						.optional()
				: notOffered('Max images'),
		})
		.strict();
}

/** Field names as the UI shows them, for error messages. */
export const parameterLabels: Record<keyof ImageTaskParameters, string> = {
	prompt: 'Prompt',
	negativePrompt: 'Negative Prompt',
	n: 'Number of Images',
	size: 'Size',
	seed: 'Seed',
	watermark: 'Watermark',
	promptExtend: 'Prompt Rewriting',
	thinkingMode: 'Thinking Mode',
	colorPalette: 'Color Palette',
	maxImages: 'Max Images',
};

/** Validates and returns problems as "Field: message" strings (empty when valid). */
export function checkTaskParameters(
	model: ModelEntry,
	operation: ImageOperation,
	parameters: ImageTaskParameters,
): string[] {
	const result = taskParametersSchema(model, operation).safeParse(parameters);
	if (result.success) return [];
	return result.error.issues.map((issue) => {
		const key = issue.path[0] as keyof ImageTaskParameters | undefined;
		const label = key ? (parameterLabels[key] ?? String(key)) : 'Parameters';
		const where = issue.path.length > 1 ? ` (${issue.path.slice(1).map((p) => (typeof p === 'number' ? `#${p + 1}` : p)).join(' ')})` : '';
		return /^[A-Z]/.test(issue.message) ? `${label}${where}: ${issue.message}` : `${label}${where} ${issue.message}`;
	});
}

/** Formats a width/height ratio for messages: 0.125 → "1:8", 4 → "4:1". */
export function formatRatio(ratio: number): string {
	if (ratio >= 1) return `${round2(ratio)}:1`;
	return `1:${round2(1 / ratio)}`;
}

/** Formats a percentage (0–100) as DashScope's "23.51%". */
export function formatPercent(value: number): string {
	return `${value.toFixed(2)}%`;
}

function round2(value: number): string {
	return String(Math.round(value * 100) / 100);
}

function formatSquare(pixels: number): string {
	const side = Math.round(Math.sqrt(pixels));
	return side * side === pixels ? `${side}*${side}` : String(pixels);
}
