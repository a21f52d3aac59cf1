/**
 * What n8n loads as the node (dist/nodes/AlibabaWan/AlibabaWan.node.js): the description, taken from the
 * full node when the package is built (scripts/bundle.mjs), and an execute that loads the full node
 * (AlibabaWan.full.js: transport, images, services) the first time a node runs. n8n loads every
 * installed node at start-up, so only what the editor needs is loaded then (bench P5).
 */
import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

/** The full node's description as JSON, put here by scripts/bundle.mjs. */
declare const FULL_NODE_DESCRIPTION: string;

interface FullNodeModule {
	AlibabaWan: new () => INodeType & { execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> };
}

let fullNode: FullNodeModule['AlibabaWan'] | undefined;

export class AlibabaWan implements INodeType {
	description = JSON.parse(FULL_NODE_DESCRIPTION) as INodeTypeDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		fullNode ??= (require('./AlibabaWan.full.js') as FullNodeModule).AlibabaWan;
		return await fullNode.prototype.execute.call(this);
	}
}
