/**
 * Where DashScope differs from the model catalog: which request/response family each model speaks,
 * which create route it is submitted to, and which regions serve it (DASHSCOPE_API.md §4, RL table).
 * The models' own limits stay in catalog/modelCatalog.ts.
 */
import type { ModelId } from '../../catalog/modelCatalog';
import type { RegionId } from './regions';
import type { SubmitRoute } from './types';

/** The two request/response families: `input.messages` → `output.choices`, or `input.prompt/images` → `output.results`. */
export type Protocol = 'messages' | 'image-synthesis';

export interface DashScopeModel {
	protocol: Protocol;
	submitRoute: SubmitRoute;
	/** Regions whose hosts serve this model (RL table). */
	regions: RegionId[];
}

/** Task IDs and result URLs stay valid this long (DASHSCOPE_API.md §7). */
export const taskValidityMs = 24 * 60 * 60 * 1000;

const allRegions: RegionId[] = ['ap-southeast-1', 'cn-beijing'];

export const dashScopeModels: Record<ModelId, DashScopeModel> = {
	'wan2.7-image-pro': { protocol: 'messages', submitRoute: 'image-generation', regions: allRegions },
	'wan2.7-image': { protocol: 'messages', submitRoute: 'image-generation', regions: allRegions },
	'wan2.6-image': {
		protocol: 'messages',
		submitRoute: 'image-generation',
		regions: ['ap-southeast-1', 'cn-beijing', 'us-east-1', 'eu-central-1'],
	},
	'wan2.5-i2i-preview': { protocol: 'image-synthesis', submitRoute: 'image-synthesis', regions: allRegions },
};
