/**
 * DashScope regions that serve Wan image models, and how a credential turns into a base URL.
 * Keys are bound to a region: the key is only ever sent to its own region's host or to the
 * user's explicit base-URL override.
 */
import { checkBaseUrl } from '../../transport/serviceCalls';

export type RegionId = 'ap-southeast-1' | 'cn-beijing' | 'us-east-1' | 'eu-central-1';

export interface RegionInfo {
	id: RegionId;
	displayName: string;
	/** Legacy shared host; undefined where the region has none (Frankfurt). */
	sharedBaseUrl?: string;
	/** Workspace host template; `{workspaceId}` is replaced. */
	workspaceBaseUrl: string;
	/** Frankfurt has no shared host, so a workspace ID is mandatory there. */
	requiresWorkspace: boolean;
}

export const regions: Record<RegionId, RegionInfo> = {
	'ap-southeast-1': {
		id: 'ap-southeast-1',
		displayName: 'Singapore',
		sharedBaseUrl: 'https://dashscope-intl.aliyuncs.com/api/v1',
		workspaceBaseUrl: 'https://{workspaceId}.ap-southeast-1.maas.aliyuncs.com/api/v1',
		requiresWorkspace: false,
	},
	'cn-beijing': {
		id: 'cn-beijing',
		displayName: 'China (Beijing)',
		sharedBaseUrl: 'https://dashscope.aliyuncs.com/api/v1',
		workspaceBaseUrl: 'https://{workspaceId}.cn-beijing.maas.aliyuncs.com/api/v1',
		requiresWorkspace: false,
	},
	'us-east-1': {
		id: 'us-east-1',
		displayName: 'US (Virginia)',
		sharedBaseUrl: 'https://dashscope-us.aliyuncs.com/api/v1',
		workspaceBaseUrl: 'https://{workspaceId}.us-east-1.maas.aliyuncs.com/api/v1',
		requiresWorkspace: false,
	},
	'eu-central-1': {
		id: 'eu-central-1',
		displayName: 'Germany (Frankfurt)',
		workspaceBaseUrl: 'https://{workspaceId}.eu-central-1.maas.aliyuncs.com/api/v1',
		requiresWorkspace: true,
	},
};

export const regionIds = Object.keys(regions) as RegionId[];

export interface DashScopeCredentials {
	apiKey: string;
	region: RegionId;
	workspaceId?: string;
	baseUrl?: string;
}

/** Workspace IDs are host labels: refuse anything that could redirect the key elsewhere. */
const workspaceIdPattern = /^[A-Za-z0-9-]{1,63}$/;

/**
 * The `.../api/v1` base URL for a credential. The override wins (gateways, proxies, the emulator);
 * otherwise the workspace host when a workspace ID is set, else the region's shared host.
 */
export function resolveBaseUrl(credentials: Pick<DashScopeCredentials, 'region' | 'workspaceId' | 'baseUrl'>): string {
	const override = credentials.baseUrl?.trim();
	if (override) return checkBaseUrl(override, "The credential's Base URL");
	const region = regions[credentials.region];
	if (!region) throw new Error(`Unknown region "${String(credentials.region)}" in the credential`);
	const workspaceId = credentials.workspaceId?.trim();
	if (workspaceId) {
		if (!workspaceIdPattern.test(workspaceId)) {
			throw new Error('The credential\'s Workspace ID may contain only letters, digits and "-"');
		}
		return region.workspaceBaseUrl.replace('{workspaceId}', workspaceId);
	}
	if (!region.sharedBaseUrl || region.requiresWorkspace) {
		throw new Error(`${region.displayName} has no shared endpoint: set the Workspace ID in the credential`);
	}
	return region.sharedBaseUrl;
}
