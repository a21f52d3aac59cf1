/**
 * Output-size rules (§4.5): size tiers vs `W*H`, total-pixel and aspect limits per model/mode, and
 * the real output dimensions (tier → ≈ that many pixels at the last input image's aspect or square;
 * `W*H` as given; 2.6 snapped to multiples of 16).
 */
import { invalidParameter } from './errors';
import type { ModelId } from './models';

export type SizeMode = '2.7-pro-t2i' | '2.7' | '2.6-edit' | '2.6-interleave' | '2.5';

interface SizeRule {
	/** Tier name → target total pixels. */
	tiers: Record<string, number>;
	minPixels: number;
	maxPixels: number;
	aspect: [number, number];
	defaultTier?: string;
	snap16: boolean;
}

const sq = (n: number): number => n * n;

/** Every mode's minimum output is 768² pixels; `defaultTier` applies when `size` is omitted. */
function sizeRule(tiers: Record<string, number>, maxPixels: number, aspect: [number, number], opts: { defaultTier?: string; snap16: boolean }): SizeRule {
	return { tiers, minPixels: sq(768), maxPixels, aspect, ...opts };
}

const RULES: Record<SizeMode, SizeRule> = {
	// 2.7 tiers: 1K≈1024², 2K≈2048², 4K≈4096² (4K only pro, no input image, set mode off).
	// No 16-px snapping rule is stated for 2.7 (docs show 2985*1405).
	'2.7-pro-t2i': sizeRule({ '1K': sq(1024), '2K': sq(2048), '4K': sq(4096) }, sq(4096), [1 / 8, 8], { defaultTier: '2K', snap16: false }),
	'2.7': sizeRule({ '1K': sq(1024), '2K': sq(2048) }, sq(2048), [1 / 8, 8], { defaultTier: '2K', snap16: false }),
	// CONFLICT: "1K" means ≈1280² on 2.6 but ≈1024² on 2.7.
	'2.6-edit': sizeRule({ '1K': sq(1280), '2K': sq(2048) }, sq(2048), [1 / 4, 4], { defaultTier: '1K', snap16: true }),
	'2.6-interleave': sizeRule({}, sq(1280), [1 / 4, 4], { snap16: true }),
	'2.5': sizeRule({}, sq(1280), [1 / 4, 4], { snap16: false }),
};

export function sizeModeFor(model: ModelId, imageCount: number, interleave: boolean): SizeMode {
	switch (model) {
		case 'wan2.7-image-pro':
			return imageCount === 0 ? '2.7-pro-t2i' : '2.7';
		case 'wan2.7-image':
			return '2.7';
		case 'wan2.6-image':
			return interleave ? '2.6-interleave' : '2.6-edit';
		default:
			return '2.5';
	}
}

export type ParsedSize = { kind: 'tier'; tier: string } | { kind: 'exact'; width: number; height: number };

/** Syntax and range checks that do not need the input images. */
export function parseSize(value: unknown, mode: SizeMode, opts: { sequential: boolean; model: ModelId }): ParsedSize | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'string') throw invalidParameter(`Parameter size must be a string, e.g. "1280*1280".`);
	const rule = RULES[mode];
	const exact = /^([1-9]\d{0,5})\*([1-9]\d{0,5})$/.exec(value);
	if (exact) {
		const width = Number(exact[1]);
		const height = Number(exact[2]);
		const pixels = width * height;
		if (pixels < rule.minPixels || pixels > rule.maxPixels) {
			throw invalidParameter(
				`The size ${value} is invalid: total pixels must be between ${Math.sqrt(rule.minPixels)}*${Math.sqrt(rule.minPixels)} and ${Math.sqrt(rule.maxPixels)}*${Math.sqrt(rule.maxPixels)}.`,
			);
		}
		const ratio = width / height;
		if (ratio < rule.aspect[0] - 1e-9 || ratio > rule.aspect[1] + 1e-9) {
			throw invalidParameter(
				`The size ${value} is invalid: the aspect ratio must be between 1:${Math.round(1 / rule.aspect[0])} and ${rule.aspect[1]}:1.`,
			);
		}
		return { kind: 'exact', width, height };
	}
	if (/^[1-9]K$/.test(value)) {
		if (value === '4K' && (opts.model === 'wan2.7-image-pro' || opts.model === 'wan2.7-image')) {
			if (mode !== '2.7-pro-t2i' || opts.sequential) {
				throw invalidParameter(
					'The size 4K is only supported by wan2.7-image-pro for text-to-image (no input image) with enable_sequential=false.',
				);
			}
		}
		if (!(value in rule.tiers)) {
			const allowed = Object.keys(rule.tiers);
			throw invalidParameter(
				allowed.length
					? `The size ${value} is invalid for this model/mode; use one of ${allowed.join(', ')} or "W*H".`
					: `The size ${value} is invalid for this model/mode; only "W*H" (e.g. "1280*1280") is supported.`,
			);
		}
		return { kind: 'tier', tier: value };
	}
	throw invalidParameter(`The size ${value} is invalid; use "W*H" (e.g. "1280*1280")${Object.keys(rule.tiers).length ? ' or a tier such as "2K"' : ''}.`);
}

/** Real output dimensions. `lastInput` is the last input image (its aspect is kept for tiers/defaults). */
export function outputSize(
	parsed: ParsedSize | undefined,
	mode: SizeMode,
	lastInput: { width: number; height: number } | undefined,
): { width: number; height: number } {
	const rule = RULES[mode];
	const clampAspect = (r: number): number => Math.min(rule.aspect[1], Math.max(rule.aspect[0], r));
	const ratio = lastInput ? clampAspect(lastInput.width / lastInput.height) : 1;
	let width: number;
	let height: number;
	if (parsed?.kind === 'exact') {
		({ width, height } = parsed);
	} else if (parsed?.kind === 'tier' || rule.defaultTier) {
		const pixels = rule.tiers[parsed?.kind === 'tier' ? parsed.tier : (rule.defaultTier as string)];
		[width, height] = atPixels(pixels, ratio);
	} else if (mode === '2.6-interleave' && lastInput) {
		// Follows the input; larger than 1280² is scaled down (smaller than 768² scaled up).
		const pixels = Math.min(rule.maxPixels, Math.max(rule.minPixels, lastInput.width * lastInput.height));
		[width, height] = atPixels(pixels, ratio);
	} else {
		// 2.6 interleave without input: 1280*1280; 2.5: ≈1280² at the last input's aspect.
		[width, height] = atPixels(sq(1280), ratio);
	}
	if (rule.snap16) {
		width = Math.max(16, Math.round(width / 16) * 16);
		height = Math.max(16, Math.round(height / 16) * 16);
	}
	return { width, height };
}

function atPixels(pixels: number, ratio: number): [number, number] {
	const width = Math.round(Math.sqrt(pixels * ratio));
	const height = Math.round(width / ratio);
	return [width, height];
}
