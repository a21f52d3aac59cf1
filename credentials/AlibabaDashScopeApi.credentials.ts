import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { regions } from '../nodes/AlibabaWan/catalog/regions';

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
				description: region.requiresWorkspace ? 'Needs a Workspace ID; serves Wan 2.6 Image only' : undefined,
			})),
			description:
				'Where the API key was created. Singapore and Beijing serve every Wan image model; Virginia and Frankfurt serve Wan 2.6 Image only.',
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
				Authorization: '=Bearer {{$credentials.apiKey}}',
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
	};
}
