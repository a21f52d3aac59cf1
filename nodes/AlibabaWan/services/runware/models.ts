/**
 * Where Runware differs from the model catalog (RUNWARE_API.md §3, §4, §4.1): its model IDs (AIRs), its
 * size rule (width and height each 768–2048 in steps of 16; Pro text-to-image up to 4096), the prompt
 * bounds it states, the input formats it takes, and what it does not offer (watermark). The models' own
 * limits stay in catalog/modelCatalog.ts; these are applied in one place (catalog/serviceDifferences.ts).
 */
import type { ModelId } from '../../catalog/modelCatalog';
import type { ModelDifferences, ServiceDifferences } from '../../catalog/serviceDifferences';

/** The catalog's model → Runware's AIR (`model`). */
export const runwareModels = {
	'wan2.7-image-pro': 'alibaba:wan@2.7-image-pro',
	'wan2.7-image': 'alibaba:wan@2.7-image',
} as const satisfies Partial<Record<ModelId, string>>;

export type RunwareModelId = keyof typeof runwareModels;

export const runwareModelIds = Object.keys(runwareModels) as RunwareModelId[];

/**
 * How long a taskUUID can still be read with getResponse. Runware does not say (UNCONFIRMED, §12.6); one
 * hour is the safe side: messages never promise more.
 */
export const taskValidityMs = 60 * 60 * 1000;

/**
 * How long a result URL lives without `ttl` (UNCONFIRMED, §9: "download immediately"). Reported as the
 * URLs' expiry when the node does not know the ttl it asked for.
 */
export const defaultUrlLifetimeMs = 60 * 60 * 1000;

/** Width and height: 768–2048 px each, multiples of 16 (R004). */
export const sideRule = { side: { min: 768, max: 2048 }, step: 16 } as const;

const withImages = '2K area at the aspect ratio of the last input image (Runware needs a width and height: each side 768–2048, a multiple of 16)';

function differences(pro: boolean): ModelDifferences {
	return {
		// R004 gives 5000 for the standard model; a third-party note says 3000 for Pro (UNCONFIRMED: the lower is taken).
		...(pro ? { promptMaxLength: 3000 } : {}),
		// Runware's generic rule: at least 2 characters (IIAPI).
		promptMinLength: 2,
		watermark: false,
		// The intersection of what Runware (PNG/JPG/WEBP) and the model (also BMP) accept (§4.1).
		inputImages: { formats: ['jpeg', 'png', 'webp'] },
		everyOperation: { size: { ...sideRule, defaultDescription: withImages } },
		operations: {
			// Pro text-to-image: sides up to 4096 (third-party, UNCONFIRMED), only without reference images.
			generateImage: { size: { ...(pro ? { side: { min: 768, max: 4096 } } : {}), defaultDescription: '2048*2048' } },
			generateImageSet: { size: { defaultDescription: `${withImages}; 2048*2048 without input images` } },
		},
	};
}

export const runwareDifferences: ServiceDifferences = {
	'wan2.7-image-pro': differences(true),
	'wan2.7-image': differences(false),
};

/** Pixels of the node's size tiers (a square of this side), mapped onto Runware's width and height. */
const tierSides: Record<string, number> = { '1K': 1024, '2K': 2048, '4K': 4096 };

/**
 * The node's size (a tier, "W*H", or undefined = Default) → Runware's width and height. A tier or the
 * default keeps `aspect` (the last input image's, else square) at the tier's area, scaled down to fit the
 * side range and rounded to the step. "W*H" was checked against the same rule already.
 */
export function runwareSize(
	size: string | undefined,
	aspect: number,
	side: { min: number; max: number },
	step: number,
): { width: number; height: number } {
	const custom = /^(\d+)\*(\d+)$/.exec(size ?? '');
	if (custom) return { width: Number(custom[1]), height: Number(custom[2]) };
	const tier = tierSides[size ?? '2K'] ?? 2048;
	let width = tier * Math.sqrt(aspect);
	let height = tier / Math.sqrt(aspect);
	const fit = Math.min(1, side.max / width, side.max / height);
	width *= fit;
	height *= fit;
	const snap = (value: number) => Math.min(side.max, Math.max(side.min, Math.round(value / step) * step));
	return { width: snap(width), height: snap(height) };
}
