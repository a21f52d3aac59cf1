import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { modelCatalog, modelIds } from '../nodes/AlibabaWan/catalog/modelCatalog';
import { dashScopeModels } from '../nodes/AlibabaWan/services/dashscope/models';
import { regions, type RegionId } from '../nodes/AlibabaWan/services/dashscope/regions';

/**
 * The credential test's base URL, as an n8n expression mirroring `resolveBaseUrl`: the override
 * wins, then the workspace host, then the region's shared host. Built from the same region table.
 */
const sharedHosts = JSON.stringify(
	Object.fromEntries(Object.values(regions).map((r) => [r.id, r.sharedBaseUrl ?? ''])),
);
const testBaseUrl =
	'={{ ($credentials.baseUrl || "").trim() ? $credentials.baseUrl.trim().replace(/\\/+$/, "") : ' +
	'(($credentials.workspaceId || "").trim() ? "https://" + $credentials.workspaceId.trim() + "." + $credentials.region + ".maas.aliyuncs.com/api/v1" : ' +
	`(${sharedHosts})[$credentials.region]) }}`;

/** The Wan models a region serves, from the model catalog: "every Wan image model" or their names. */
function servedModels(region: RegionId): string {
	const served = modelIds.filter((id) => dashScopeModels[id].regions.includes(region));
	return served.length === modelIds.length
		? 'every Wan image model'
		: `${served.map((id) => modelCatalog[id].displayName).join(', ')} only`;
}

function regionNote(region: RegionId): string {
	const workspace = regions[region].requiresWorkspace ? 'Needs a Workspace ID. ' : '';
	return `${workspace}Serves ${servedModels(region)}`;
}

/** What the Test button shows when the key is refused: the usual cause is a key from another region. */
const keyRefused =
	'The API key was not accepted here. Model Studio keys are bound to the region they were created in: choose that region under Region ' +
	'(a key from Singapore does not work in Beijing, Virginia or Frankfurt, and so on), or check the key and the Workspace ID.';

export class AlibabaDashScopeApi implements ICredentialType {
	name = 'alibabaDashScopeApi';

	displayName = 'Alibaba Model Studio (DashScope) API';

	icon: Icon = { light: 'file:../nodes/AlibabaWan/alibabaWan.svg', dark: 'file:../nodes/AlibabaWan/alibabaWan.dark.svg' };

	documentationUrl = 'https://www.alibabacloud.com/help/en/model-studio/get-api-key';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'A Model Studio API key. Keys are bound to the region they were created in.',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			default: 'ap-southeast-1',
			options: Object.values(regions).map((region) => ({
				name: region.displayName,
				value: region.id,
				description: regionNote(region.id),
			})),
			description: `Where the API key was created: keys work only in their own region. ${Object.values(regions)
				.map((region) => `${region.displayName}: ${servedModels(region.id)}`)
				.join('. ')}.`,
		},
		{
			displayName: 'Workspace ID',
			name: 'workspaceId',
			type: 'string',
			default: '',
			description:
				'Optional (required for Frankfurt): use the dedicated workspace host {workspaceId}.{region}.maas.aliyuncs.com, recommended for production',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://my-gateway.example.com/api/v1',
			description:
				'Optional: send every request to this base URL (up to and including /api/v1) instead of the region host — for gateways, proxies or a local emulator. The API key is sent there.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				// Trimmed, as the node trims it: a key pasted with a space or line break tests as it runs.
				Authorization: '=Bearer {{ $credentials.apiKey.trim() }}',
			},
		},
	};

	/** Lists one task: read-only, never creates a billable task. */
	test: ICredentialTestRequest = {
		request: {
			baseURL: testBaseUrl,
			url: '/tasks',
			method: 'GET',
			qs: { page_no: 1, page_size: 1 },
		},
		rules: [
			{ type: 'responseCode', properties: { value: 401, message: keyRefused } },
		],
	};
}
