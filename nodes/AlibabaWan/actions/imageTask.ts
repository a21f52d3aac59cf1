/**
 * The straight line every image operation walks:
 * item → image sources → probe + validate against the model catalog → request body → submit →
 * (wait → results → binary items) or (task ID for later).
 * `prepare` sends nothing, so every input problem is reported before anything is billed.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import {
	getOperationSpec,
	seedRange,
	type ImageOperation,
	type ModelEntry,
	type OperationSpec,
} from '../catalog/modelCatalog';
import {
	checkTaskParameters,
	formatPercent,
	normalizeSize,
	type ColorPaletteEntry,
	type ImageTaskParameters,
} from '../catalog/taskParameters';
import { serviceModelsFor } from '../catalog/serviceDifferences';
import { prepareImages, type ImageSourceSpec, type PreparedImage } from '../images/imageSources';
import type { OutputSettings, TaskContext } from '../output/binaryItems';
import type { ServiceOptionValues, ServiceRequest } from '../services';
import { pollSchedulerFor } from '../tasks/pollScheduler';
import { ApiError, isRateLimit, toNodeApiError } from '../transport';
import {
	fieldFailure,
	itemError,
	readOptions,
	readText,
	toBoolean,
	toChoice,
	toNumber,
	toText,
	type FieldFailure,
} from './parameterReaders';
import { readServiceOptions } from './serviceOptions';
import {
	collectTask,
	emitResult,
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
	/** The chosen service's own options the user set (checked). */
	serviceOptions: ServiceOptionValues;
	images: PreparedImage[];
	request: ServiceRequest;
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
	const fail = (message: string) => itemError(ctx, itemIndex, message);

	const modelId = readText(ctx, itemIndex, 'model', 'Model').trim();
	// The service's effective entries (its differences from the catalog applied): every check below reads them.
	const { service } = env.session;
	const offered = serviceModelsFor(service, operation);
	const model = offered.find((entry) => entry.id === modelId);
	if (!model) {
		throw fail(`Model "${modelId}" is not a model for this operation on ${service.shortName}: use one of ${offered.map((entry) => entry.id).join(', ')}`);
	}
	const spec = getOperationSpec(model, operation);
	const notServed = env.session.modelProblem(model);
	if (notServed) throw fail(notServed);

	const parameters = readParameters(ctx, itemIndex, spec);
	const problems = checkTaskParameters(model, operation, parameters);
	if (problems.length) throw fail(problems.join('; '));

	const sources = readImageSources(ctx, itemIndex, operation, spec);
	if (sources.length < spec.images.min || sources.length > spec.images.max) {
		const range = spec.images.min === spec.images.max ? `${spec.images.min}` : `${spec.images.min} to ${spec.images.max}`;
		throw fail(
			`Images: ${model.displayName} takes ${range} image(s) here, got ${sources.length}: ` +
				(sources.length < spec.images.min ? 'add images' : 'remove images, or split them over several items'),
		);
	}
	// Options are checked before any image is read or sent: a bad Timeout must not surface after billing.
	const wait = readWaitSettings(ctx, itemIndex);
	const output = readOutputSettings(ctx, itemIndex);
	const serviceOptions = readServiceOptions(ctx, itemIndex, service, operation);
	const transparency = toChoice(
		readOptions(ctx, itemIndex).transparency,
		'Options › Transparent Images',
		['flatten', 'fail'] as const,
		'flatten',
		fieldFailure(ctx, itemIndex),
	);
	let images: PreparedImage[];
	try {
		images = await prepareImages(ctx, itemIndex, sources, model, {
			transparency,
			maxBoxesPerImage: spec.boxesPerImage ?? 0,
			urls: { service: env.session.service.shortName, schemes: env.session.service.imageUrlSchemes },
		});
	} catch (error) {
		// Image refusals are NodeOperationErrors already. n8n's own helpers (the binary store) end their
		// messages with a 0-based " [item 0]": say "Item 1:" like every other message.
		throw error instanceof NodeOperationError
			? error
			: fail(String((error as Error).message ?? error).replace(/\s*\[item \d+\]$/, ''));
	}
	// After each image's own checks, so a problem with one entry is named before the pairing of two.
	// Version 1 sent such lists as they were; saved v1 workflows keep doing so.
	const repeated = ctx.getNode().typeVersion >= 2 ? repeatedBinaryField(sources) : undefined;
	if (repeated) throw fail(repeated);

	const serviceProblem = service.requestProblem?.(model, operation, parameters, images, serviceOptions);
	if (serviceProblem) throw fail(serviceProblem);

	const runMode = ctx.getNodeParameter('runMode', itemIndex, 'wait') as PreparedImageTask['runMode'];
	return {
		operation,
		model,
		parameters,
		serviceOptions,
		images,
		request: env.session.buildRequest(model, operation, parameters, images, serviceOptions),
		runMode,
		wait,
		output,
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
		region: env.session.location,
		prompt: task.parameters.prompt,
		seed: task.parameters.seed,
		requestedSize: task.parameters.size,
		// n is exact except in image sets and 2.6 mixed output, where it is an upper bound.
		requestedImages: spec.sequential || spec.interleave ? undefined : task.parameters.n,
		submittedAt: new Date().toISOString(),
	};
	// The item's Timeout covers waiting for a submit slot (the 5-running-tasks limit) and for the task.
	const started = Date.now();
	const deadline = started + task.wait.timeoutMs;
	let submitted;
	try {
		if (task.runMode === 'wait' && !task.wait.pollIntervalMs) await pollSchedulerFor(env.session).beforeSubmit(env.signal);
		submitted = await env.session.submitTask(task.request, {
			signal: env.signal,
			deadline,
			onRetry: (event) => {
				// A refused slot probe is expected while the account is full; any other refusal shrinks this run's share.
				if (isRateLimit(event.error) && !event.slotProbe) env.submitThrottled?.();
			},
		});
	} catch (error) {
		for (const candidate of (error instanceof ApiError && error.candidateTaskIds) || []) {
			env.ledger.record(candidate, itemIndex, 'candidate');
		}
		// A sent request whose answer was lost, which the service named (a synchronous service's own
		// request reference): listed too, so the user knows it may have been billed.
		if (error instanceof ApiError && error.taskMayExist && error.taskId && !error.candidateTaskIds?.length) {
			env.ledger.record(error.taskId, itemIndex, 'unknown', error.code);
		}
		throw toNodeApiError(ctx.getNode(), error, { itemIndex });
	}
	const submittedAt = Date.now();
	env.ledger.record(submitted.taskId, itemIndex, 'running');
	if (submitted.adopted) {
		env.log(`Item ${itemIndex + 1}: the submit answer was lost; task ${submitted.taskId} was found and adopted (not submitted again)`);
	}

	// A synchronous service answered with the finished task: its images are emitted even on "Submit
	// Only", since there is nothing to collect later.
	if (submitted.result) return await emitResult(ctx, env, submitted.taskId, submitted.result, context, task.output, itemIndex, started);
	if (task.runMode === 'submit') {
		return [
			{
				json: submittedTaskJson(submitted.taskId, context, submitted.requestId, submitted.status, env.session.service.taskValidityMs),
				pairedItem: { item: itemIndex },
			},
		];
	}
	return await collectTask(ctx, env, submitted.taskId, context, task.wait, task.output, itemIndex, deadline, submittedAt);
}

/** What a dry run reports: the checked inputs and the exact request, with images as placeholders. */
function dryRunJson(task: PreparedImageTask, env: RunEnvironment): IDataObject {
	return {
		valid: true,
		operation: task.operation,
		model: task.model.id,
		region: env.session.location,
		route: task.request.route,
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
		requestBytes: task.request.body.contentLength,
		request: task.request.body.preview() as IDataObject,
	};
}

/**
 * The task parameters of one item, each read as the type it means (see parameterReaders): an expression
 * that yields an object or an array for the prompt is refused here, never sent as "[object Object]".
 * Ranges and lengths are checked afterwards by the catalog's schema (checkTaskParameters).
 */
function readParameters(ctx: IExecuteFunctions, itemIndex: number, spec: OperationSpec): ImageTaskParameters {
	const fail = fieldFailure(ctx, itemIndex);
	// skipValidation: n8n's own check would fail with "[item 0]"; the readers and the catalog name "Item 1".
	const modelOptions = objectParameter(ctx.getNodeParameter('modelOptions', itemIndex, {}, { skipValidation: true }));
	const size = readText(ctx, itemIndex, 'size', 'Size', 'default').trim();
	const count = (name: string, label: string, fallback: number) =>
		toNumber(ctx.getNodeParameter(name, itemIndex, fallback), label, fail) ??
		fail(`${label} is empty (the expression gave nothing): enter a number, or remove the expression`);
	const customSize = () =>
		readText(ctx, itemIndex, 'customSize', 'Custom Size').trim() ||
		fail('Custom Size is empty: enter width*height in pixels, e.g. 1024*1536, or choose a size tier');
	const parameters: ImageTaskParameters = {
		prompt: readText(ctx, itemIndex, 'prompt', 'Prompt'),
		n: spec.n.max > 1 ? count('numberOfImages', spec.sequential ? 'Max Images in Set' : 'Number of Images', spec.n.default) : spec.n.default,
		size:
			size === 'custom'
				? normalizeSize(customSize())
				: size === 'default' || size === ''
					? undefined
					: normalizeSize(size),
	};
	if (spec.maxImages) parameters.maxImages = count('maxImages', 'Max Images', spec.maxImages.default);
	const negativePrompt = toText(modelOptions.negativePrompt, 'Model Options › Negative Prompt', fail);
	if (negativePrompt !== '') parameters.negativePrompt = negativePrompt;
	// Seed is a text field: empty sends no seed (random each run); typed text must be a whole number.
	const seedText = modelOptions.seed;
	if (typeof seedText === 'string' && seedText.trim() && !/^\d+$/.test(seedText.trim())) {
		fail(`Seed: "${seedText.trim()}" is not a whole number — enter ${seedRange.min} to ${seedRange.max}, or leave it empty for a random seed`);
	}
	const seed = toNumber(seedText, 'Model Options › Seed', fail);
	if (seed !== undefined) parameters.seed = seed;
	const flags = { watermark: 'Watermark', promptExtend: 'Prompt Rewriting', thinkingMode: 'Thinking Mode' } as const;
	for (const [key, label] of Object.entries(flags) as Array<[keyof typeof flags, string]>) {
		const value = toBoolean(modelOptions[key], `Model Options › ${label}`, fail);
		if (value !== undefined) parameters[key] = value;
	}
	const palette = objectParameter(modelOptions.colorPalette).color;
	if (palette !== undefined) {
		if (!Array.isArray(palette)) fail('Model Options › Color Palette must be a list of colours: add them with "Add Color"');
		parameters.colorPalette = (palette as unknown[]).map((entry, index): ColorPaletteEntry => {
			const color = objectParameter(entry);
			const label = `Model Options › Color Palette (#${index + 1})`;
			return {
				hex: toText(color.hex, `${label} Color`, fail).toUpperCase(),
				ratio: formatPercent(toNumber(color.ratio, `${label} Share (%)`, fail) ?? 0),
			};
		});
	}
	return parameters;
}

/** A collection parameter as an object (an expression could have put anything there). */
function objectParameter(value: unknown): IDataObject {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as IDataObject) : {};
}

function readImageSources(
	ctx: IExecuteFunctions,
	itemIndex: number,
	operation: ImageOperation,
	spec: OperationSpec,
): ImageSourceSpec[] {
	if (spec.images.max === 0) return [];
	const fail = fieldFailure(ctx, itemIndex);
	if (operation === 'editImage') {
		return [readSource(ctx.getNodeParameter.bind(ctx), itemIndex, fail, ctx.getNodeParameter('boxes', itemIndex, ''), 'Image 1')];
	}
	const imagesFrom = toChoice(ctx.getNodeParameter('imagesFrom', itemIndex, 'list'), 'Images From', ['list', 'allBinary'] as const, 'list', fail);
	if (imagesFrom === 'allBinary') {
		const binary = ctx.getInputData()[itemIndex]?.binary ?? {};
		return Object.entries(binary).map(([propertyName, data]) => ({ kind: 'binaryData', propertyName, binary: data }));
	}
	const list = objectParameter(ctx.getNodeParameter('images', itemIndex, {}, { skipValidation: true })).image;
	if (list === undefined) return [];
	if (!Array.isArray(list)) return fail('Images must be a list: add the images with "Add Image"');
	return list.map((raw, index) => {
		const entry = objectParameter(raw);
		const read = (name: string, _itemIndex: number, fallback: unknown) => entry[name] ?? fallback;
		return readSource(read, itemIndex, fail, entry.boxes, `Image ${index + 1}`);
	});
}

/** One image's source fields (Edit Image's top-level fields, or one entry of the image list). */
function readSource(
	read: (name: string, itemIndex: number, fallback: unknown) => unknown,
	itemIndex: number,
	fail: FieldFailure,
	boxes: unknown,
	image: string,
): ImageSourceSpec {
	const inputType = toChoice(read('inputType', itemIndex, 'binary'), `${image} › Image Input`, ['binary', 'url'] as const, 'binary', fail);
	if (inputType === 'url') {
		return { kind: 'url', url: toText(read('imageUrl', itemIndex, ''), `${image} › Image URL`, fail), boxes };
	}
	const label = `${image} › Input Binary Field`;
	const propertyName = toText(read('binaryPropertyName', itemIndex, 'data'), label, fail).trim();
	if (!propertyName) fail(`${label} is empty: enter the name of the binary field that holds the image, e.g. data`);
	return { kind: 'binary', propertyName, boxes };
}

/**
 * Two list entries reading the same binary field would send one file as both "image 1" and "image 2",
 * which the prompt cannot mean. (Every new entry starts at "data", so this is the usual slip.)
 */
function repeatedBinaryField(sources: ImageSourceSpec[]): string | undefined {
	const firstEntry = new Map<string, number>();
	for (const [index, source] of sources.entries()) {
		if (source.kind !== 'binary') continue;
		const earlier = firstEntry.get(source.propertyName);
		if (earlier !== undefined) {
			return (
				`Images: entries ${earlier + 1} and ${index + 1} both use the binary field "${source.propertyName}", so the same file would be sent as image ${earlier + 1} and image ${index + 1}. ` +
				'Point each entry at its own binary field (e.g. data, data_1), or choose "All Binary Fields of the Item".'
			);
		}
		firstEntry.set(source.propertyName, index);
	}
	return undefined;
}
