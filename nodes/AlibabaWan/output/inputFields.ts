/**
 * "Include Input Fields": the input item's own JSON (sku, productName…) goes onto each of its output
 * items, under the node's fields (on a name clash the node's value wins, so taskId, url… stay true).
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

export function withInputFields(ctx: IExecuteFunctions, itemIndex: number, outputs: INodeExecutionData[]): INodeExecutionData[] {
	if (!outputs.length || !ctx.getNodeParameter('includeInputFields', itemIndex, false)) return outputs;
	const input = ctx.getInputData()[itemIndex]?.json ?? {};
	return outputs.map((output) => ({ ...output, json: { ...input, ...output.json } }));
}
