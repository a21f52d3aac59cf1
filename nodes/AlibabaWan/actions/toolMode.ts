/**
 * The node as an AI Agent's tool. n8n wraps every `usableAsTool` node into a `<name>Tool` type and
 * decides "is a tool" by that suffix (`@tool` in displayOptions does the same); the agent's model then
 * reads `JSON.stringify` of the output items' `json` — never their binary data (n8n 2.41.1: the engine's
 * buildObservation and the older tool wrapper both drop it). So in tool mode the node answers with one
 * compact JSON per call (URLs, size, task ID, billed images), and a failure comes back as a short
 * result the model can act on instead of stopping the agent's execution.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

export function isToolMode(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().type.endsWith('Tool');
}

/** The node's output items for one call, reduced to what a model needs to answer and follow up. */
export function toolResult(items: INodeExecutionData[]): INodeExecutionData[] {
	if (!items.length) return items;
	const first = items[0].json;
	// Submit Only, dry runs, Wait/Cancel without images: their JSON is already small.
	if (!items.some((item) => item.json.url !== undefined || Array.isArray(item.json.images))) return items;
	const images: IDataObject[] = [];
	const failedImages: IDataObject[] = [];
	const tasks = new Map<string, IDataObject>();
	for (const item of items) {
		const json = item.json;
		const taskId = json.taskId as string | undefined;
		if (taskId && !tasks.has(taskId)) tasks.set(taskId, taskSummary(json));
		for (const image of imagesOf(json)) {
			const binary = item.binary?.[image.binaryProperty as string] ?? (image.binaryProperty ? undefined : firstBinary(item));
			images.push(
				compact({
					url: image.url,
					size: image.size ?? json.size,
					fileName: binary?.fileName,
					mimeType: binary?.mimeType,
					fileSize: binary?.fileSize,
				}),
			);
		}
		if (json.error !== undefined) failedImages.push(compact({ imageIndex: json.imageIndex, error: json.error }));
		for (const failed of (json.failedImages as IDataObject[] | undefined) ?? []) failedImages.push(failed);
	}
	const summaries = [...tasks.values()];
	const result: IDataObject = compact({
		...(summaries.length === 1 ? summaries[0] : { tasks: summaries }),
		images,
		failedImages: failedImages.length ? failedImages : undefined,
		urlsExpireAt: first.urlsExpireAt,
	});
	return [{ json: result, pairedItem: items[0].pairedItem }];
}

/** An error as a tool result: the message (already naming the field and the limit), and any task it left. */
export function toolErrorResult(error: Error & { description?: string | null; context?: IDataObject }): INodeExecutionData[] {
	const context = error.context ?? {};
	const details = (context.dashScope ?? {}) as IDataObject;
	const tasks = context.tasks as IDataObject[] | undefined;
	return [
		{
			json: compact({
				error: error.message.replace(/^Item 1: /, ''),
				hint: error.description?.split('\n')[0] || undefined,
				taskId: (context.taskId as string) ?? (details.task_id as string),
				taskStatus: context.taskStatus,
				code: details.code,
				tasks: tasks?.length ? tasks : undefined,
			}),
			pairedItem: { item: 0 },
		},
	];
}

function taskSummary(json: IDataObject): IDataObject {
	const usage = json.usage as IDataObject | undefined;
	return compact({
		taskId: json.taskId,
		status: json.status,
		model: json.model,
		size: json.size,
		imageCount: json.imageCount,
		// What is billed: images produced (usage.image_count), and their cost when the service reports it.
		billedImages: usage?.image_count,
		cost: usage?.cost,
		actualPrompt: json.actualPrompt,
		texts: json.texts,
	});
}

function imagesOf(json: IDataObject): IDataObject[] {
	if (Array.isArray(json.images)) return json.images as IDataObject[];
	return json.url ? [{ url: json.url, size: json.size }] : [];
}

function firstBinary(item: INodeExecutionData) {
	return Object.values(item.binary ?? {})[0];
}

function compact(json: IDataObject): IDataObject {
	return Object.fromEntries(Object.entries(json).filter(([, value]) => value !== undefined && value !== null && value !== '')) as IDataObject;
}
