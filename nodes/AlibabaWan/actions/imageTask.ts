/**
 * The straight line every image operation walks:
 * item → image sources → probe + validate against the model catalog → request body → submit →
 * (wait → results → binary items) or (task ID for later).
 * `prepare` sends nothing, so every input problem is reported before anything is billed.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import {
	getModel,
	getOperationSpec,
	type ImageOperation,
	type ModelEntry,
	type OperationSpec,
} from '../catalog/modelCatalog';
import { regions } from '../catalog/regions';
import {
	checkTaskParameters,
	formatPercent,
	normalizeSize,
	type ColorPaletteEntry,
	type ImageTaskParameters,
} from '../catalog/taskParameters';
import {
	ImageInputError,
	prepareImages,
	type ImageSourceSpec,
	type PreparedImage,
	type TransparencyPolicy,
} from '../images/imageSources';
import type { OutputSettings, TaskContext } from '../output/binaryItems';
import { buildRequestBody } from '../request/requestBody';
import { DashScopeError, submitTask, toNodeApiError, type StreamingJsonBody } from '../transport';
import {
	collectTask,
	readOutputSettings,
	readWaitSettings,
	submittedTaskJson,
	type RunEnvironment,
	type WaitSettings,
} from './taskRunner';

export interface PreparedImageTask {
	operation: ImageOperation;
	model: ModelEntry;
	parameters: ImageTaskParameters;
	images: PreparedImage[];
	body: StreamingJsonBody;
	runMode: 'wait' | 'submit' | 'validate';
	wait: WaitSettings;
	output: OutputSettings;
}

export async function prepareImageTask(
	ctx: IExecuteFunctions,
	itemIndex: number,
	operation: ImageOperation,
	env: RunEnvironment,
): Promise<PreparedImageTask> {
	const fail = (message: string) =>
		new NodeOperationError(ctx.getNode(), `Item ${itemIndex + 1}: ${message}`, { itemIndex });

	const model = getModel(ctx.getNodeParameter('model', itemIndex) as string);
	const spec = getOperationSpec(model, operation);
	if (!model.regions.includes(env.region)) {
		throw fail(
			`${model.displayName} is not served in ${regions[env.region].displayName}. ` +
				`Regions serving it: ${model.regions.map((id) => regions[id].displayName).join(', ')} — use a credential for one of them.`,
		);
	}

	const parameters = readParameters(ctx, itemIndex, spec);
	const problems = checkTaskParameters(model, operation, parameters);
	if (problems.length) throw fail(problems.join('; '));

	const sources = readImageSources(ctx, itemIndex, operation, spec);
	if (sources.length < spec.images.min || sources.length > spec.images.max) {
		const range = spec.images.min === spec.images.max ? `${spec.images.min}` : `${spec.images.min} to ${spec.images.max}`;
		throw fail(`Images: ${model.displayName} takes ${range} image(s) here, got ${sources.length}`);
	}
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	let images: PreparedImage[];
	try {
		images = await prepareImages(ctx, itemIndex, sources, model, {
			transparency: (options.transparency as TransparencyPolicy) ?? 'flatten',
			maxBoxesPerImage: spec.boxesPerImage ?? 0,
		});
	} catch (error) {
		throw error instanceof ImageInputError
			? fail(`Image ${error.imageNumber} ${error.message}`)
			: new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	}

	const runMode = ctx.getNodeParameter('runMode', itemIndex, 'wait') as PreparedImageTask['runMode'];
	return {
		operation,
		model,
		parameters,
		images,
		body: buildRequestBody(model, operation, parameters, images),
		runMode,
		wait: readWaitSettings(ctx, itemIndex),
		output: readOutputSettings(ctx, itemIndex),
	};
}

export async function runImageTask(
	ctx: IExecuteFunctions,
	task: PreparedImageTask,
	itemIndex: number,
	env: RunEnvironment,
): Promise<INodeExecutionData[]> {
	if (task.runMode === 'validate') return [{ json: dryRunJson(task, env), pairedItem: { item: itemIndex } }];
	const spec = getOperationSpec(task.model, task.operation);
	const context: TaskContext = {
		operation: task.operation,
		model: task.model.id,
		region: env.region,
		prompt: task.parameters.prompt,
		seed: task.parameters.seed,
		requestedSize: task.parameters.size,
		// n is exact except in image sets and 2.6 mixed output, where it is an upper bound.
		requestedImages: spec.sequential || spec.interleave ? undefined : task.parameters.n,
		submittedAt: new Date().toISOString(),
	};
	// The item's Timeout covers waiting for a submit slot (the 5-running-tasks limit) and for the task.
	const deadline = Date.now() + task.wait.timeoutMs;
	let submitted;
	try {
		submitted = await submitTask(env.endpoint, task.model.submitRoute, task.body, {
			signal: env.signal,
			model: task.model.id,
			deadline,
		});
	} catch (error) {
		for (const candidate of (error instanceof DashScopeError && error.candidateTaskIds) || []) {
			env.ledger.record(candidate, itemIndex, 'candidate');
		}
		throw toNodeApiError(ctx.getNode(), error, { itemIndex });
	}
	env.ledger.record(submitted.taskId, itemIndex, 'running');
	if (submitted.adopted) {
		env.log(`Item ${itemIndex + 1}: the submit answer was lost; task ${submitted.taskId} was found in the task list and adopted (not submitted again)`);
	}

	if (task.runMode === 'submit') {
		return [
			{
				json: submittedTaskJson(submitted.taskId, context, submitted.requestId, submitted.taskStatus),
				pairedItem: { item: itemIndex },
			},
		];
	}
	return await collectTask(ctx, env, submitted.taskId, context, task.wait, task.output, itemIndex, deadline);
}

/** What a dry run reports: the checked inputs and the exact request, with images as placeholders. */
function dryRunJson(task: PreparedImageTask, env: RunEnvironment): IDataObject {
	return {
		valid: true,
		operation: task.operation,
		model: task.model.id,
		region: env.region,
		route: task.model.submitRoute,
		images: task.images.map((image) => ({
			number: image.number,
			source: image.source,
			...(image.probe
				? {
						format: image.probe.format,
						mimeType: image.probe.mimeType,
						width: image.probe.width,
						height: image.probe.height,
						fileSize: image.probe.fileSize,
					}
				: {}),
			flattened: image.flattened,
			boxes: image.boxes,
		})),
		requestBytes: task.body.contentLength,
		request: task.body.preview() as IDataObject,
	};
}

function readParameters(ctx: IExecuteFunctions, itemIndex: number, spec: OperationSpec): ImageTaskParameters {
	const modelOptions = ctx.getNodeParameter('modelOptions', itemIndex, {}) as IDataObject;
	const size = ctx.getNodeParameter('size', itemIndex, 'default') as string;
	const parameters: ImageTaskParameters = {
		prompt: String(ctx.getNodeParameter('prompt', itemIndex, '')),
		n: spec.n.max > 1 ? Number(ctx.getNodeParameter('numberOfImages', itemIndex, spec.n.default)) : spec.n.default,
		size:
			size === 'custom'
				? normalizeSize(String(ctx.getNodeParameter('customSize', itemIndex, '')) || 'missing')
				: size === 'default'
					? undefined
					: normalizeSize(size),
	};
	if (spec.maxImages) parameters.maxImages = Number(ctx.getNodeParameter('maxImages', itemIndex, spec.maxImages.default));
	const optional: Array<keyof ImageTaskParameters> = ['negativePrompt', 'seed', 'watermark', 'promptExtend', 'thinkingMode'];
	for (const key of optional) {
		const value = modelOptions[key];
		if (value === undefined || value === '') continue;
		(parameters as unknown as IDataObject)[key] = value;
	}
	const palette = (modelOptions.colorPalette as IDataObject | undefined)?.color as IDataObject[] | undefined;
	if (palette) {
		parameters.colorPalette = palette.map(
			(entry): ColorPaletteEntry => ({
				hex: String(entry.hex ?? '').toUpperCase(),
				ratio: formatPercent(Number(entry.ratio ?? 0)),
			}),
		);
	}
	return parameters;
}

function readImageSources(
	ctx: IExecuteFunctions,
	itemIndex: number,
	operation: ImageOperation,
	spec: OperationSpec,
): ImageSourceSpec[] {
	if (spec.images.max === 0) return [];
	if (operation === 'editImage') {
		const boxes = ctx.getNodeParameter('boxes', itemIndex, '') as string;
		return [readSource(ctx, itemIndex, boxes)];
	}
	if (ctx.getNodeParameter('imagesFrom', itemIndex, 'list') === 'allBinary') {
		const binary = ctx.getInputData()[itemIndex]?.binary ?? {};
		return Object.entries(binary).map(([propertyName, data]) => ({ kind: 'binaryData', propertyName, binary: data }));
	}
	const list = (ctx.getNodeParameter('images', itemIndex, {}) as IDataObject).image as IDataObject[] | undefined;
	return (list ?? []).map((entry) => ({
		...(entry.inputType === 'url'
			? { kind: 'url' as const, url: String(entry.imageUrl ?? '') }
			: { kind: 'binary' as const, propertyName: String(entry.binaryPropertyName ?? 'data') }),
		boxes: entry.boxes as string | undefined,
	}));
}

function readSource(ctx: IExecuteFunctions, itemIndex: number, boxes: string): ImageSourceSpec {
	const inputType = ctx.getNodeParameter('inputType', itemIndex, 'binary') as string;
	if (inputType === 'url') {
		return { kind: 'url', url: String(ctx.getNodeParameter('imageUrl', itemIndex, '')), boxes };
	}
	return {
		kind: 'binary',
		propertyName: String(ctx.getNodeParameter('binaryPropertyName', itemIndex, 'data')),
		boxes,
	};
}
