/**
 * The credential: its test request is read-only and its base-URL expression, evaluated by n8n's own
 * expression engine, picks the same host as the node's resolveBaseUrl for every kind of credential.
 */
import { NodeHelpers, Workflow, type INode, type INodeType } from 'n8n-workflow';

import { AlibabaDashScopeApi } from '../credentials/AlibabaDashScopeApi.credentials';
import { AlibabaWan } from '../nodes/AlibabaWan/AlibabaWan.node';
import { resolveBaseUrl, type DashScopeCredentials } from '../nodes/AlibabaWan/services/dashscope/regions';

const credential = new AlibabaDashScopeApi();
const nodeType: INodeType = new AlibabaWan();
const node: INode = {
	id: '1',
	name: 'Alibaba Wan',
	type: 'n8n-nodes-alibaba-wan.alibabaWan',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const workflow = new Workflow({
	nodes: [node],
	connections: {},
	active: false,
	nodeTypes: {
		getByName: () => nodeType,
		getByNameAndVersion: () => NodeHelpers.getVersionedNodeType(nodeType, 1),
		getKnownTypes: () => ({}),
	} as never,
});

function evaluate(expression: string, credentials: Partial<DashScopeCredentials>): unknown {
	return workflow.expression.getSimpleParameterValue(node, expression, 'internal', {
		$credentials: { apiKey: 'k', workspaceId: '', baseUrl: '', ...credentials },
	} as never);
}

test.each<Partial<DashScopeCredentials>>([
	{ region: 'ap-southeast-1' },
	{ region: 'cn-beijing' },
	{ region: 'us-east-1' },
	{ region: 'cn-beijing', workspaceId: 'ws-abc123' },
	{ region: 'eu-central-1', workspaceId: ' ws-frankfurt ' },
	{ region: 'ap-southeast-1', baseUrl: 'http://127.0.0.1:8787/ap-southeast-1/api/v1/' },
])('test request base URL for %j equals the node\'s', (credentials) => {
	const request = credential.test.request;
	expect(evaluate(request.baseURL as string, credentials)).toBe(resolveBaseUrl(credentials as DashScopeCredentials));
});

test('the test request only lists tasks (never creates a billable one) and sends the key as Bearer', () => {
	expect(credential.test.request).toMatchObject({ method: 'GET', url: '/tasks', qs: { page_no: 1, page_size: 1 } });
	expect(credential.authenticate.properties.headers).toEqual({ Authorization: '=Bearer {{ $credentials.apiKey.trim() }}' });
	const apiKey = credential.properties.find((property) => property.name === 'apiKey')!;
	expect(apiKey.typeOptions).toEqual({ password: true });
	expect(credential.properties.find((property) => property.name === 'region')!.options!.map((o) => (o as { value: string }).value)).toEqual([
		'ap-southeast-1',
		'cn-beijing',
		'us-east-1',
		'eu-central-1',
	]);
});
