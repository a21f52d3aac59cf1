/**
 * Model catalogue: which model speaks which protocol, lives on which route, in which region, and
 * what its input images may look like (DASHSCOPE_API.md §1, §2, §4.4, §7, §10).
 */
import type { RegionId } from './types';

export type ModelId = 'wan2.7-image-pro' | 'wan2.7-image' | 'wan2.6-image' | 'wan2.5-i2i-preview';

/** 'messages' = input.messages / output.choices; 'synthesis' = input.prompt+images / output.results. */
export type Protocol = 'messages' | 'synthesis';

/** The create routes. 'text2image' (…/text2image/image-synthesis) exists for other Wan models; none of these four live there. */
export type CreateRoute = 'sync-generation' | 'async-generation' | 'image-synthesis' | 'text2image';

export interface InputImageLimits {
	minSide: number;
	maxSide: number;
	maxBytes: number;
	/** Allowed width/height ratio range, or null when unlimited. */
	aspect: [number, number] | null;
}

export interface ModelSpec {
	id: ModelId;
	protocol: Protocol;
	routes: readonly CreateRoute[];
	regions: readonly RegionId[];
	input: InputImageLimits;
	/** Prompt length in characters (code points). */
	maxPromptChars: number;
	/** 2.7: "excess silently cut" (D27); 2.6/2.5: documented as a maximum, so the emulator rejects. */
	truncatePrompt: boolean;
}

const MB = 1024 * 1024;

/** The two 2.7 models share protocol, routes, regions and input limits; they differ in output size rules (4K, see sizing.ts). */
function wan27Spec(id: 'wan2.7-image-pro' | 'wan2.7-image'): ModelSpec {
	return {
		id,
		protocol: 'messages',
		routes: ['sync-generation', 'async-generation'],
		regions: ['cn-beijing', 'ap-southeast-1'],
		input: { minSide: 240, maxSide: 8000, maxBytes: 20 * MB, aspect: [1 / 8, 8] },
		maxPromptChars: 5000,
		truncatePrompt: true,
	};
}

export const MODELS: Record<ModelId, ModelSpec> = {
	'wan2.7-image-pro': wan27Spec('wan2.7-image-pro'),
	'wan2.7-image': wan27Spec('wan2.7-image'),
	'wan2.6-image': {
		id: 'wan2.6-image',
		protocol: 'messages',
		routes: ['sync-generation', 'async-generation'],
		regions: ['cn-beijing', 'ap-southeast-1', 'us-east-1', 'eu-central-1'],
		// [240, 8000] per the current page (CONFLICT: D26-2025 said [384, 5000]); aspect unlimited.
		input: { minSide: 240, maxSide: 8000, maxBytes: 10 * MB, aspect: null },
		maxPromptChars: 2000,
		truncatePrompt: false,
	},
	'wan2.5-i2i-preview': {
		id: 'wan2.5-i2i-preview',
		protocol: 'synthesis',
		routes: ['image-synthesis'],
		regions: ['cn-beijing', 'ap-southeast-1'],
		input: { minSide: 384, maxSide: 5000, maxBytes: 10 * MB, aspect: [1 / 4, 4] },
		maxPromptChars: 2000,
		truncatePrompt: false,
	},
};

export function findModel(id: unknown): ModelSpec | undefined {
	return typeof id === 'string' && Object.prototype.hasOwnProperty.call(MODELS, id) ? MODELS[id as ModelId] : undefined;
}

/** Frankfurt serves async calls only (§1). */
export function regionAllowsSync(region: RegionId): boolean {
	return region !== 'eu-central-1';
}

/** Temporary-upload policy is documented for Beijing and Singapore only (§8, UNCONFIRMED elsewhere: strict). */
export function regionAllowsUploads(region: RegionId): boolean {
	return region === 'cn-beijing' || region === 'ap-southeast-1';
}

export const NEGATIVE_PROMPT_MAX = 500;
export const SEED_MAX = 2147483647;
/** Per account (= per emulator key) and model (§7). */
export const SUBMISSIONS_PER_SECOND = 5;
export const CONCURRENT_TASKS = 5;
/** Task queries per second (§7; scope unclear, the emulator applies it per key). */
export const QUERIES_PER_SECOND = 20;
export const TASK_TTL_MS = 24 * 3600 * 1000;
export const RESULT_TTL_MS = 24 * 3600 * 1000;
export const UPLOAD_TTL_MS = 48 * 3600 * 1000;
