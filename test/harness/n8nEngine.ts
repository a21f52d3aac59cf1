/**
 * Runs the BUILT node (dist/, exactly what n8n loads) inside the real n8n engine: published
 * n8n-core `WorkflowExecute`, a real filesystem binary-data store (so a node that reads
 * `binary.data` directly fails), and credentials applied the way n8n applies them.
 * Recipe: ../shared/reference/N8N_NOTES.md §6.2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Container } from '@n8n/di';
import { BinaryDataService, ExecuteContext, ExecutionLifecycleHooks, RoutingNode, WorkflowExecute } from 'n8n-core';
import {
	ICredentialsHelper,
	NodeHelpers,
	Workflow,
	type IBinaryData,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type ICredentialsDecrypted,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type IConnections,
	type INode,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type IRun,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';

const PACKAGE = 'n8n-nodes-alibaba-wan';
export const NODE_TYPE = `${PACKAGE}.alibabaWan`;
export const CREDENTIAL_TYPE = 'alibabaDashScopeApi';

const { AlibabaWan } = require('../../dist/nodes/AlibabaWan/AlibabaWan.node.js');
const { AlibabaDashScopeApi } = require('../../dist/credentials/AlibabaDashScopeApi.credentials.js');
const { RunwareApi } = require('../../dist/credentials/RunwareApi.credentials.js');
const { WanGatewayApi } = require('../../dist/credentials/WanGatewayApi.credentials.js');

const nodeType: INodeType = new AlibabaWan();
/** Every credential type of the package, by name (each service has its own). */
const credentialTypes: Record<string, ICredentialType> = Object.fromEntries(
	[new AlibabaDashScopeApi(), new RunwareApi(), new WanGatewayApi()].map((type: ICredentialType) => [type.name, type]),
);

/**
 * Stand-in for n8n's Manual Trigger, so example workflows (trigger → Alibaba Wan → …) run here
 * without installing n8n-nodes-base: it only passes one empty item on. Real n8n runs the real one.
 */
const manualTrigger: INodeType = {
	description: {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		group: ['trigger'],
		version: 1,
		description: 'Stand-in for n8n-nodes-base.manualTrigger',
		defaults: { name: 'Manual Trigger' },
		inputs: [],
		outputs: ['main' as never],
		properties: [],
	},
	async execute(this: IExecuteFunctions) {
		return [[{ json: {} }]];
	},
};

/**
 * The node as n8n 2.41 wraps it for an AI Agent (n8n's convertNodeToAiTool): same class, type name
 * + 'Tool' (what `@tool` displayOptions and the node's tool mode look at). It keeps a main output here
 * so the engine hands its items back to the test; the agent reads the same items' JSON.
 */
export const TOOL_NODE_TYPE = `${NODE_TYPE}Tool`;
const toolNodeType: INodeType = {
	description: { ...nodeType.description, name: `${nodeType.description.name}Tool`, displayName: `${nodeType.description.displayName} Tool` },
	execute: nodeType.execute,
};

const knownTypes: Record<string, INodeType> = {
	[NODE_TYPE]: nodeType,
	[TOOL_NODE_TYPE]: toolNodeType,
	'n8n-nodes-base.manualTrigger': manualTrigger,
};
const nodeTypes = {
	getByName: (type: string) => knownTypes[type],
	getByNameAndVersion: (type: string, version?: number) =>
		knownTypes[type] ? NodeHelpers.getVersionedNodeType(knownTypes[type], version) : undefined,
	getKnownTypes: () => ({}),
};

export interface TestCredentials {
	apiKey: string;
	/** DashScope only. */
	region?: string;
	baseUrl?: string;
	workspaceId?: string;
	[field: string]: string | number | undefined;
}

/** Fills the credential's generic `authenticate` block, as n8n's CredentialsHelper does. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: ICredentialDataDecryptedObject) {
		super();
	}
	getParentTypes() {
		return [];
	}
	isCredentialUsableByNode() {
		return true;
	}
	async getDecrypted() {
		return this.data;
	}
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		type: string,
		request: IHttpRequestOptions,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const authenticate = credentialTypes[type]?.authenticate as { properties?: { headers?: Record<string, string> } } | undefined;
		const headers = authenticate?.properties?.headers ?? {};
		const filled: Record<string, string> = { ...((request.headers as Record<string, string>) ?? {}) };
		// n8n's CredentialsHelper.resolveValue: a value starting with "=" is an expression over $credentials.
		for (const [name, value] of Object.entries(headers)) {
			const resolved =
				value.charAt(0) === '='
					? workflow.expression.getSimpleParameterValue(node, value, 'internal', { $credentials: credentials } as never, undefined, '')
					: value;
			filled[name] = resolved ? String(resolved) : '';
		}
		return { ...request, headers: filled };
	}
	async preAuthentication() {
		return undefined;
	}
	async runPreAuthentication() {
		return undefined;
	}
	async getCredentials(): Promise<never> {
		throw new Error('not used');
	}
	async updateCredentials() {}
	async updateCredentialsOauthTokenData() {}
	getCredentialsProperties(type: string) {
		return credentialTypes[type].properties;
	}
}

/** One filesystem binary store per test file. */
export class BinaryStore {
	readonly dir = mkdtempSync(join(tmpdir(), 'wan-binary-'));
	readonly service = new BinaryDataService(
		{ mode: 'filesystem', availableModes: ['filesystem'], localStoragePath: this.dir } as never,
		{ error() {}, warn() {} } as never,
		{ debug() {}, info() {}, warn() {}, error() {} } as never,
	);

	async init(): Promise<void> {
		await this.service.init();
		Container.set(BinaryDataService, this.service);
	}

	/** Stores a file the way an upstream node would (binary.data is then just 'filesystem-v2'). */
	async store(buffer: Buffer, mimeType: string, fileName: string): Promise<IBinaryData> {
		return await this.service.store({ type: 'execution', workflowId: 'wf1', executionId: 'e1' }, buffer, {
			data: '',
			mimeType,
			fileName,
		} as IBinaryData);
	}

	async read(binary: IBinaryData): Promise<Buffer> {
		return await this.service.getAsBuffer(binary);
	}

	cleanup(): void {
		rmSync(this.dir, { recursive: true, force: true });
	}
}

/** Inline binary (n8n's legacy "default" mode): the Base64 lives in binary.data. */
export function inlineBinary(buffer: Buffer, mimeType: string, fileName: string): IBinaryData {
	return { data: buffer.toString('base64'), mimeType, fileName, fileSize: String(buffer.length) } as IBinaryData;
}

/** One execution through n8n-core's WorkflowExecute, starting at `start` with `items` as its input. */
function additionalDataFor(credentials: TestCredentials, hooks?: ExecutionLifecycleHooks): IWorkflowExecuteAdditionalData {
	return {
		hooks,
		credentialsHelper: new TestCredentialsHelper({ workspaceId: '', baseUrl: '', ...credentials }),
		variables: {},
		currentNodeExecutionIndex: 0,
		executionId: 'e1',
		restApiUrl: '',
		instanceBaseUrl: '',
		webhookBaseUrl: '',
		webhookWaitingBaseUrl: '',
		webhookTestBaseUrl: '',
		formWaitingBaseUrl: '',
		logAiEvent: () => {},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/**
 * Sends the credential's `test.request` the way n8n's credentials tester does for the Test button
 * (n8n 2.41 packages/cli credentials-tester.service.ts): a temporary node whose one property routes
 * that request, run by n8n-core's RoutingNode with the decrypted credential. Returns the live error
 * (the tester reads `error.cause.response.status` from it to pick a `test.rules` message).
 */
export type CredentialTestError = Error & { cause?: { response?: { status?: number } } };

export async function runCredentialTestRequest(
	credentials: TestCredentials,
	credentialTypeName: string = CREDENTIAL_TYPE,
): Promise<{ error?: CredentialTestError }> {
	const credentialType = credentialTypes[credentialTypeName];
	const testNodeType: INodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp.credentialTest',
			group: ['transform'],
			version: 1,
			description: "The credentials tester's temporary node",
			defaults: { name: 'Temp-Node' },
			inputs: ['main' as never],
			outputs: ['main' as never],
			credentials: [{ name: credentialTypeName, required: true }],
			properties: [{ displayName: 'Temp', name: 'temp', type: 'string', default: '', routing: { request: credentialType.test!.request } }],
		},
	};
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: 'temp.credentialTest',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { [credentialTypeName]: { id: '1', name: 'Credential' } },
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: { getByName: () => testNodeType, getByNameAndVersion: () => testNodeType, getKnownTypes: () => ({}) } as never,
	});
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(credentials),
		'internal',
		{ resultData: { runData: {} } } as never,
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	const data = { workspaceId: '', baseUrl: '', ...credentials };
	const decrypted = { id: '1', name: 'Credential', type: credentialTypeName, data } as unknown as ICredentialsDecrypted;
	try {
		await new RoutingNode(context, testNodeType, decrypted).runNode();
		return {};
	} catch (error) {
		return { error: error as CredentialTestError };
	}
}

function startExecution(
	nodes: INode[],
	connections: IConnections,
	credentials: TestCredentials,
	start: INode,
	items: INodeExecutionData[],
	name = 'wf',
) {
	const workflow = new Workflow({ id: 'wf1', nodes, connections, nodeTypes: nodeTypes as never, active: false, settings: {} });
	const hooks = new ExecutionLifecycleHooks('manual', 'e1', { id: 'wf1', name, nodes, connections } as never);
	const additionalData = additionalDataFor(credentials, hooks);
	const runData = {
		resultData: { runData: {} },
		executionData: {
			contextData: {},
			metadata: {},
			waitingExecution: {},
			waitingExecutionSource: null,
			nodeExecutionStack: [{ node: start, data: { main: [items] }, source: null }],
		},
	};
	const execution = new WorkflowExecute(additionalData, 'manual', runData as never).processRunExecutionData(workflow);
	return { execution, hooks };
}

export interface RunOptions {
	parameters: INodeParameters;
	credentials: TestCredentials;
	items?: INodeExecutionData[];
	continueOnFail?: boolean;
	/** Cancel the execution (as the UI's stop button does) after this many ms. */
	cancelAfterMs?: number;
	/** The node's typeVersion (default 1, the version the existing suites were written for). */
	typeVersion?: number;
	/** The node's "Retry On Fail" setting. */
	retryOnFail?: boolean;
	/** Run the tool variant (`alibabaWanTool`), as an AI Agent does. */
	asTool?: boolean;
	/** The credential type the node is given (default the DashScope one). */
	credentialType?: string;
}

export interface RunResult {
	status: IRun['status'];
	items: INodeExecutionData[];
	error?: Error & { context?: IDataObject; description?: string; httpCode?: string | null };
	run: IRun;
}

export async function runNode(options: RunOptions): Promise<RunResult> {
	const node: INode = {
		id: 'node-1',
		name: 'Alibaba Wan',
		type: options.asTool ? TOOL_NODE_TYPE : NODE_TYPE,
		typeVersion: options.typeVersion ?? 1,
		position: [0, 0],
		parameters: options.parameters,
		credentials: { [options.credentialType ?? CREDENTIAL_TYPE]: { id: '1', name: 'Credential' } },
		...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		...(options.retryOnFail ? { retryOnFail: true, maxTries: 2, waitBetweenTries: 0 } : {}),
	};
	const { execution, hooks } = startExecution([node], {}, options.credentials, node, options.items ?? [{ json: {} }]);
	let run: IRun;
	if (options.cancelAfterMs !== undefined) {
		const finished = new Promise<IRun>((resolve) => hooks.addHandler('workflowExecuteAfter', (fullRun: IRun) => resolve(fullRun)));
		const timer = setTimeout(() => execution.cancel(), options.cancelAfterMs);
		run = await finished;
		clearTimeout(timer);
	} else {
		run = await execution;
	}
	const nodeRuns = run.data.resultData.runData[node.name];
	const items = nodeRuns?.[0]?.data?.main?.[0] ?? [];
	return {
		status: run.status,
		items,
		error: (run.data.resultData.error ?? nodeRuns?.[0]?.error) as RunResult['error'],
		run,
	};
}

export interface WorkflowJson {
	name?: string;
	nodes: INode[];
	connections: IConnections;
}

export interface WorkflowRunResult {
	status: IRun['status'];
	/** Output items of every node that ran, by node name (first run, first output). */
	outputs: Record<string, INodeExecutionData[]>;
	error?: RunResult['error'];
	run: IRun;
}

/**
 * Runs a whole workflow (as exported from n8n: trigger → Alibaba Wan → …) through the engine.
 * Every Alibaba Wan node gets the given credentials.
 */
export async function runWorkflow(workflowJson: WorkflowJson, credentials: TestCredentials): Promise<WorkflowRunResult> {
	const nodes = workflowJson.nodes.map((node) => ({ ...node, parameters: { ...node.parameters } }));
	const unknown = nodes.filter((node) => !knownTypes[node.type]);
	if (unknown.length) throw new Error(`This runner knows only ${Object.keys(knownTypes).join(', ')}; got ${unknown.map((n) => n.type).join(', ')}`);
	const start = nodes.find((node) => node.type === 'n8n-nodes-base.manualTrigger');
	if (!start) throw new Error('The workflow needs a Manual Trigger');
	const run = await startExecution(nodes, workflowJson.connections, credentials, start, [{ json: {} }], workflowJson.name)
		.execution;
	const outputs: Record<string, INodeExecutionData[]> = {};
	let error = run.data.resultData.error as RunResult['error'];
	for (const [name, runs] of Object.entries(run.data.resultData.runData)) {
		outputs[name] = runs[0]?.data?.main?.[0] ?? [];
		error ??= runs[0]?.error as RunResult['error'];
	}
	return { status: run.status, outputs, error, run };
}
