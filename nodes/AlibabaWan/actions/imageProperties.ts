/**
 * UI properties shared by the four image operations, generated from the model catalog: a model
 * only shows the options it supports, with its own ranges, tiers and defaults.
 */
import type { IDisplayOptions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import {
	modelIds,
	modelsFor,
	runOptionRanges,
	seedRange,
	type ImageOperation,
	type ModelEntry,
	type ModelId,
	type OperationSpec,
} from '../catalog/modelCatalog';
import { serviceModelsFor } from '../catalog/serviceDifferences';
import { formatRatio } from '../catalog/taskParameters';
import { defaultFileNameTemplate } from '../output/binaryItems';
import { services, type WanService } from '../services';
import { retryNotice } from './retryWarning';
import { serviceOptionsProperties } from './serviceOptions';

const show = (operation: string, extra: Record<string, unknown[]> = {}) => ({
	displayOptions: { show: { operation: [operation], ...extra } },
});

/**
 * The model-dependent fields (Model, Prompt hint, Size, counts, Model Options) exist once per service,
 * each shown only for its service and built from that service's effective models (its differences from
 * the catalog applied), so the panel shows the limits that will be checked.
 */
function perService(
	operation: ImageOperation,
	build: (service: WanService, models: ModelEntry[], showFor: Record<string, unknown[]>) => INodeProperties[],
): INodeProperties[] {
	return services.flatMap((service) => {
		const models = serviceModelsFor(service, operation);
		return models.length ? build(service, models, { service: [service.id] }) : [];
	});
}

/**
 * Models for which `predicate` holds on at least one service (effective entries), in catalog order: the
 * image fields are shared by every service, so they show wherever some service can use them.
 */
function modelIdsWhere(operation: ImageOperation, predicate: (spec: OperationSpec, model: ModelEntry) => boolean): ModelId[] {
	const where = new Set(
		services.flatMap((service) =>
			serviceModelsFor(service, operation)
				.filter((model) => predicate(model.operations[operation]!, model))
				.map((model) => model.id),
		),
	);
	return modelIds.filter((id) => where.has(id));
}

/** Groups the service's models by a derived key, so each distinct variant becomes one property. */
function groupModels(
	operation: ImageOperation,
	models: ModelEntry[],
	keyOf: (spec: OperationSpec, model: ModelEntry) => string | undefined,
): Array<{ models: ModelId[]; spec: OperationSpec; model: ModelEntry }> {
	const groups = new Map<string, { models: ModelId[]; spec: OperationSpec; model: ModelEntry }>();
	for (const model of models) {
		const spec = model.operations[operation]!;
		const key = keyOf(spec, model);
		if (key === undefined) continue;
		const group = groups.get(key);
		if (group) group.models.push(model.id);
		else groups.set(key, { models: [model.id], spec, model });
	}
	return [...groups.values()];
}

/** One Model option per service: the catalog's model IDs that service serves for the operation. */
export function modelProperties(operation: ImageOperation, defaultModel: ModelId): INodeProperties[] {
	return perService(operation, (_service, models, showFor) => {
		const serviceDefault = models.some((model) => model.id === defaultModel) ? defaultModel : models[0].id;
		return [modelProperty(operation, models, serviceDefault, showFor)];
	});
}

function modelProperty(operation: ImageOperation, models: ModelEntry[], defaultModel: ModelId, showFor: Record<string, unknown[]>): INodeProperties {
	return {
		displayName: 'Model',
		name: 'model',
		type: 'options',
		noDataExpression: true,
		default: defaultModel,
		options: models.map((model) => ({
			name: model.displayName,
			value: model.id,
			description: model.description,
		})),
		...show(operation, showFor),
	};
}

/** "Up to 5,000 characters (Wan 2.7 Image Pro, Wan 2.7 Image) · 2,000 characters (Wan 2.6 Image)", from the effective models. */
export function promptLimitHint(models: ModelEntry[]): string {
	const byLimit = new Map<number, string[]>();
	for (const model of models) {
		byLimit.set(model.promptMaxLength, [...(byLimit.get(model.promptMaxLength) ?? []), model.displayName]);
	}
	const limits = [...byLimit.entries()].map(
		([limit, names]) => `${limit.toLocaleString('en-US')} characters (${names.join(', ')})`,
	);
	return `Up to ${limits.join(' · ')}`;
}

export function promptProperties(operation: ImageOperation, description: string, placeholder: string): INodeProperties[] {
	return perService(operation, (_service, models, showFor) => [
		{
			displayName: 'Prompt',
			name: 'prompt',
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			required: true,
			placeholder,
			description,
			hint: promptLimitHint(models),
			...show(operation, showFor),
		},
	]);
}

const inputTypeOptions: INodePropertyOptions[] = [
	{ name: 'Binary File', value: 'binary', description: 'A binary property of the input item' },
	{ name: 'URL or Data URI', value: 'url', description: 'A public http(s) URL, an oss:// path or a data: URI' },
];

/** Region Boxes, with their format visible as placeholder and hint (not only in a tooltip). */
function boxesProperty(displayOptions: IDisplayOptions | undefined): INodeProperties {
	return {
		displayName: 'Region Boxes',
		name: 'boxes',
		type: 'string',
		default: '',
		placeholder: '100,120,480,560;600,80,900,400',
		description: 'Optional edit regions in this image, at most two. An expression may also give an array: [x1,y1,x2,y2] (one box) or [[x1,y1,x2,y2], …].',
		hint: 'x1,y1,x2,y2 in the image\'s pixels from its top-left corner; two boxes separated by ";"',
		displayOptions,
	};
}

/** Edit Image: one image, described by top-level fields. */
export function singleImageProperties(operation: ImageOperation): INodeProperties[] {
	const boxModels = modelIdsWhere(operation, (spec) => Boolean(spec.boxesPerImage));
	return [
		{
			displayName: 'Image Input',
			name: 'inputType',
			type: 'options',
			default: 'binary',
			options: inputTypeOptions,
			...show(operation),
		},
		{
			displayName: 'Input Binary Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			required: true,
			hint: 'The name of the input binary field containing the image',
			...show(operation, { inputType: ['binary'] }),
		},
		{
			displayName: 'Image URL',
			name: 'imageUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://example.com/product.jpg',
			...show(operation, { inputType: ['url'] }),
		},
		boxesProperty(show(operation, { model: boxModels }).displayOptions),
	];
}

/** Fuse Images / Image Set / 2.6 reference: an ordered list ("image 1", "image 2"…). */
export function imageListProperties(operation: ImageOperation, required: boolean): INodeProperties[] {
	const boxModels = modelIdsWhere(operation, (spec) => Boolean(spec.boxesPerImage));
	const listModels = modelIdsWhere(operation, (spec) => spec.images.max > 0);
	const limits = groupModels(operation, modelsFor(operation), (spec) => (spec.images.max > 0 ? `${spec.images.min}-${spec.images.max}` : undefined))
		.map(({ spec, models }) => `${models.join(', ')}: ${spec.images.min}–${spec.images.max}`)
		.join('; ');
	const entryValues: INodeProperties[] = [
		{ displayName: 'Image Input', name: 'inputType', type: 'options', default: 'binary', options: inputTypeOptions },
		{
			displayName: 'Input Binary Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			placeholder: 'data_1',
			description: 'Each entry needs its own binary field of the input item (e.g. data, data_1, data_2)',
			displayOptions: { show: { inputType: ['binary'] } },
		},
		{
			displayName: 'Image URL',
			name: 'imageUrl',
			type: 'string',
			default: '',
			placeholder: 'https://example.com/image.jpg',
			displayOptions: { show: { inputType: ['url'] } },
		},
	];
	if (boxModels.length) {
		entryValues.push(
			// Version 1 showed the field for every model of the operation (a saved value stays and is checked).
			boxesProperty({ show: { '@version': [1] } }),
			// Version 2: only the models whose catalog entry takes boxes ('/model': the node's model).
			boxesProperty({ show: { '@version': [2], '/model': boxModels } }),
		);
	}
	const properties: INodeProperties[] = [
		{
			displayName: 'Images From',
			name: 'imagesFrom',
			type: 'options',
			default: 'list',
			options: [
				{ name: 'List Below', value: 'list', description: 'Each image named in order: the first entry is image 1' },
				{
					name: 'All Binary Fields of the Item',
					value: 'allBinary',
					description: 'Every binary field of the input item, in the order they appear on the item',
				},
			],
			...show(operation, { model: listModels }),
		},
		{
			displayName:
				'Entry order is the image number: the first entry is "image 1", the second "image 2"… — refer to the images that way in the prompt. Give each entry its own binary field.',
			name: 'imageOrderNotice',
			type: 'notice',
			default: '',
			...show(operation, { model: listModels, imagesFrom: ['list'] }),
		},
		{
			displayName: required ? 'Images' : 'Reference Images',
			name: 'images',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true, sortable: true },
			default: {},
			placeholder: 'Add Image',
			description: `In prompt order: the first is "image 1". Count per model — ${limits}.`,
			options: [{ displayName: 'Image', name: 'image', values: entryValues }],
			...show(operation, { model: listModels, imagesFrom: ['list'] }),
		},
	];
	if (boxModels.length) {
		properties.push({
			displayName:
				'Region boxes need the image list: with "All Binary Fields of the Item" no boxes can be set. Choose "List Below" to place boxes on an image.',
			name: 'allBinaryBoxesNotice',
			type: 'notice',
			default: '',
			...show(operation, { model: boxModels, imagesFrom: ['allBinary'] }),
		});
	}
	return properties;
}

/** "; width and height 768 to 2048 pixels each, multiples of 16" when the service limits each side. */
function sideText(size: OperationSpec['size']): string {
	if (!size.side && !size.step) return '';
	const side = size.side ? `width and height ${size.side.min} to ${size.side.max} pixels each` : 'width and height';
	return `; ${side}${size.step ? `, multiples of ${size.step}` : ''}`;
}

export function sizeProperties(operation: ImageOperation): INodeProperties[] {
	return perService(operation, (_service, serviceModels, showFor) => sizePropertiesOf(operation, serviceModels, showFor));
}

function sizePropertiesOf(operation: ImageOperation, serviceModels: ModelEntry[], showFor: Record<string, unknown[]>): INodeProperties[] {
	return groupModels(operation, serviceModels, (spec) => JSON.stringify(spec.size)).flatMap(({ models, spec }) => {
		const { size } = spec;
		const options: INodePropertyOptions[] = [
			{ name: 'Default', value: 'default', description: size.defaultDescription },
			...size.tiers.map((tier) => ({ name: tier, value: tier })),
			{ name: 'Custom (Width*Height)', value: 'custom' },
		];
		const side = (pixels: number) => Math.round(Math.sqrt(pixels));
		return [
			{
				displayName: 'Size',
				name: 'size',
				type: 'options',
				default: 'default',
				options,
				...show(operation, { ...showFor, model: models }),
			},
			{
				displayName: 'Custom Size',
				name: 'customSize',
				type: 'string',
				default: '',
				required: true,
				placeholder: '1024*1536',
				description: `Width*height in pixels: ${side(size.customPixels.min)}² to ${side(size.customPixels.max)}² pixels in total, aspect ratio ${formatRatio(size.customAspect.min)} to ${formatRatio(size.customAspect.max)}${sideText(size)}`,
				...show(operation, { ...showFor, model: models, size: ['custom'] }),
			},
		] as INodeProperties[];
	});
}

export function countProperties(operation: ImageOperation): INodeProperties[] {
	return perService(operation, (_service, serviceModels, showFor) => countPropertiesOf(operation, serviceModels, showFor));
}

function countPropertiesOf(operation: ImageOperation, serviceModels: ModelEntry[], showFor: Record<string, unknown[]>): INodeProperties[] {
	const counts = groupModels(operation, serviceModels, (spec) =>
		spec.n.max > 1 ? `${spec.n.min}-${spec.n.max}-${spec.n.default}` : undefined,
	).map(({ models, spec }): INodeProperties => {
		const { min, max, default: defaultCount } = spec.n;
		return {
			displayName: spec.sequential ? 'Max Images in Set' : 'Number of Images',
			name: 'numberOfImages',
			type: 'number',
			typeOptions: { minValue: min, maxValue: max },
			default: defaultCount,
			description: spec.sequential
				? `Upper bound of images in the set (${min}–${max}); the model may return fewer. You pay per image produced.`
				: `Images to generate (${min}–${max}); you pay per image produced`,
			...show(operation, { ...showFor, model: models }),
		};
	});
	const maxImages = groupModels(operation, serviceModels, (spec) => (spec.maxImages ? JSON.stringify(spec.maxImages) : undefined)).map(
		({ models, spec }): INodeProperties => {
			const { min, max, default: defaultMaxImages, apiDefault } = spec.maxImages!;
			return {
				displayName: 'Max Images',
				name: 'maxImages',
				type: 'number',
				typeOptions: { minValue: min, maxValue: max },
				default: defaultMaxImages,
				description: `Upper bound of images in the mixed text-and-image answer (${min}–${max}). The API's own default is ${apiDefault}; this node sends ${defaultMaxImages} unless you raise it, because every image is billed.`,
				...show(operation, { ...showFor, model: models }),
			};
		},
	);
	return [...counts, ...maxImages];
}

/** Model options, each shown only for the models whose effective entry offers it (one collection per service). */
export function modelOptionsProperties(operation: ImageOperation): INodeProperties[] {
	return perService(operation, (_service, models, showFor) => [modelOptionsPropertyOf(operation, models, showFor)]);
}

function modelOptionsPropertyOf(operation: ImageOperation, models: ModelEntry[], showFor: Record<string, unknown[]>): INodeProperties {
	const where = (predicate: (spec: OperationSpec, model: ModelEntry) => boolean) => ({
		displayOptions: {
			show: { '/model': models.filter((model) => predicate(model.operations[operation]!, model)).map((model) => model.id) },
		},
	});
	const options: INodeProperties[] = [
		{
			displayName: 'Color Palette',
			name: 'colorPalette',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true },
			default: {},
			placeholder: 'Add Color',
			description: '3 to 10 colours whose shares add up to 100%',
			options: [
				{
					displayName: 'Color',
					name: 'color',
					values: [
						{ displayName: 'Color', name: 'hex', type: 'color', default: '#C2D1E6' },
						{
							displayName: 'Share (%)',
							name: 'ratio',
							type: 'number',
							typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
							default: 10,
						},
					],
				},
			],
			...where((spec) => Boolean(spec.colorPalette)),
		},
		{
			displayName: 'Negative Prompt',
			name: 'negativePrompt',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '',
			description: 'What the image should not contain',
			...where((_, model) => model.negativePromptMaxLength !== undefined),
		},
		{
			displayName: 'Prompt Rewriting',
			name: 'promptExtend',
			type: 'boolean',
			default: true,
			description:
				'Whether the service rewrites the prompt to be more detailed (the rewritten prompt is in the output). Turn off if a rewrite trips IP-infringement checks.',
			...where((spec) => Boolean(spec.promptExtend)),
		},
		{
			// A text field, so that adding the option without typing a number sends no seed (random),
			// instead of a number field's 0, which would fix every run to seed 0.
			displayName: 'Seed',
			name: 'seed',
			type: 'string',
			default: '',
			placeholder: 'Random',
			description: `A whole number from ${seedRange.min} to ${seedRange.max.toLocaleString('en-US')} that fixes the random seed for more repeatable results (not fully deterministic). Empty = a new random seed each run.`,
			...where((_, model) => model.seed),
		},
		{
			displayName: 'Thinking Mode',
			name: 'thinkingMode',
			type: 'boolean',
			default: true,
			description: 'Whether the model reasons about the prompt first: better composition, slower',
			...where((spec) => Boolean(spec.thinkingMode)),
		},
		{
			displayName: 'Watermark',
			name: 'watermark',
			type: 'boolean',
			default: false,
			description: 'Whether to add the "AI生成" (AI-generated) mark in the bottom-right corner',
			...where((_, model) => model.watermark),
		},
	];
	return {
		displayName: 'Model Options',
		name: 'modelOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options,
		...show(operation, showFor),
	};
}

/** Each service's refusal of an operation (e.g. Cancel Task), as a notice shown when that service is chosen. */
export function refusalNotices(operation: string): INodeProperties[] {
	return services.flatMap((service) => {
		const reason = service.refusedOperations?.[operation as 'waitForTask' | 'cancelTask'];
		if (!reason) return [];
		const notice: INodeProperties = { displayName: reason, name: 'serviceRefusalNotice', type: 'notice', default: '', ...show(operation, { service: [service.id] }) };
		return [notice];
	});
}

/** How the node runs and what it outputs — shared by the image operations and Wait for Task. */
export function runProperties(operation: string, hasRunMode: boolean): INodeProperties[] {
	const properties: INodeProperties[] = [];
	if (hasRunMode) {
		properties.push({
			displayName: 'Mode',
			name: 'runMode',
			type: 'options',
			noDataExpression: true,
			default: 'wait',
			options: [
				{ name: 'Wait for Result', value: 'wait', description: 'Submit, wait until done, output the images' },
				{
					name: 'Submit Only',
					value: 'submit',
					description: 'Return the task ID at once; collect the images later with "Wait for Task"',
				},
				{
					name: 'Validate Only (Dry Run)',
					value: 'validate',
					description: 'Check every input and output the request that would be sent; nothing is sent or billed',
				},
			],
			...show(operation),
		});
	}
	const whenWaiting: Record<string, unknown[]> = hasRunMode ? { runMode: ['wait'] } : {};
	const outputOptions = [
		{ name: 'Binary Files', value: 'binary', description: 'Download every image into n8n binary data' },
		{
			name: 'URLs Only',
			value: 'url',
			description: 'Image URLs in the JSON (they expire after 24 hours); best for AI agent tools',
		},
	];
	properties.push(
		{
			displayName: 'Output',
			name: 'outputFormat',
			type: 'options',
			default: 'binary',
			options: outputOptions,
			...show(operation, { ...whenWaiting, '@tool': [false] }),
		},
		// As an AI Agent's tool the model reads only JSON: URLs by default, nothing downloaded.
		{
			displayName: 'Output',
			name: 'outputFormat',
			type: 'options',
			default: 'url',
			options: outputOptions,
			description: toolOutputDescription,
			...show(operation, { ...whenWaiting, '@tool': [true] }),
		},
		{
			displayName: 'Output Items',
			name: 'outputItems',
			type: 'options',
			default: 'perImage',
			options: [
				{ name: 'One Item per Image', value: 'perImage' },
				{ name: 'All Images on One Item', value: 'perTask', description: 'Binary fields data, data_1, data_2…' },
			],
			...show(operation, whenWaiting),
		},
	);
	return properties;
}

/**
 * n8n's "Include Input Fields" convention: keep the input item's own fields (sku, productName…) on
 * every output item, so the next step can file the image. Version 2 keeps them by default; version 1
 * keeps its released behaviour (only the node's fields) unless switched on.
 */
export function includeInputFieldsProperties(operation: string): INodeProperties[] {
	return [
		{
			displayName: 'Include Input Fields',
			name: 'includeInputFields',
			type: 'boolean',
			default: false,
			description: includeInputFieldsDescription,
			displayOptions: { show: { operation: [operation], '@version': [1], '@tool': [false] } },
		},
		{
			displayName: 'Include Input Fields',
			name: 'includeInputFields',
			type: 'boolean',
			default: true,
			description: includeInputFieldsDescription,
			displayOptions: { show: { operation: [operation], '@version': [2], '@tool': [false] } },
		},
	];
}

const toolOutputDescription =
	"What the agent's model receives is always compact JSON (image URLs, size, task ID, billed images). Binary Files also stores the images in this execution, but n8n 2.41's AI Agent passes only a tool's JSON to the model, never its binary data.";

const includeInputFieldsDescription =
	"Whether to keep the input item's own JSON fields (e.g. sku, productName) on each output item. Where a name is taken, the node's field wins.";

export function optionsProperty(operation: string, image: boolean): INodeProperties {
	const options: INodeProperties[] = [
		{
			displayName: 'Cancel Pending Task on Stop or Timeout',
			name: 'cancelPending',
			type: 'boolean',
			default: false,
			description:
				'Whether to cancel the DashScope task when the execution is stopped or the wait times out while the task is still queued (only queued tasks can be cancelled)',
			// Only for services that can cancel ('/service': the node's Service).
			displayOptions: { show: { '/service': services.filter((service) => !service.refusedOperations?.cancelTask).map((service) => service.id) } },
		},
		{
			displayName: 'Concurrency',
			name: 'concurrency',
			type: 'number',
			typeOptions: { minValue: runOptionRanges.concurrency.min, maxValue: runOptionRanges.concurrency.max },
			default: 5,
			description:
				'Items processed at the same time. DashScope runs at most 5 tasks per account and model at once (more are rejected); Runware advises 2 to 4 requests in flight.',
		},
		{
			displayName: 'File Name',
			name: 'fileNameTemplate',
			type: 'string',
			default: defaultFileNameTemplate,
			placeholder: '{{ $json.sku }}-{index}.{ext}',
			description:
				'Output file names. Tokens in single braces: {taskId}, {index} (image number), {item} (input item number), {model}, {ext}. They mix with n8n expressions: switched to an expression, the example above names each file after the item\'s sku.',
			hint: 'Tokens: {taskId} {index} {item} {model} {ext}',
		},
		{
			displayName: 'Output Binary Field',
			name: 'outputBinaryPropertyName',
			type: 'string',
			default: 'data',
			description: 'Where the images go; with all images on one item: data, data_1, data_2…',
		},
		{
			displayName: 'Poll Interval (Seconds)',
			name: 'pollIntervalSeconds',
			type: 'number',
			typeOptions: {
				minValue: runOptionRanges.pollIntervalSeconds.min,
				maxValue: runOptionRanges.pollIntervalSeconds.max,
				numberPrecision: 2,
			},
			default: 0,
			description: "0 = automatic: each task is looked at when it most likely just finished (learned from this run's finished tasks), within the account's query limit; otherwise a look every this many seconds",
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeoutSeconds',
			type: 'number',
			typeOptions: { minValue: runOptionRanges.timeoutSeconds.min, maxValue: runOptionRanges.timeoutSeconds.max },
			default: 900,
			description:
				'How long each item may take: waiting for a free task slot (DashScope runs 5 tasks per model at a time) and for its task. Then the node stops waiting; the task keeps running and its ID is reported.',
		},
	];
	if (image) {
		options.push({
			displayName: 'Transparent Images',
			name: 'transparency',
			type: 'options',
			default: 'flatten',
			options: [
				{
					name: 'Flatten Onto White',
					value: 'flatten',
					description: 'Composite transparent PNGs onto white before sending (cut-out product shots)',
				},
				{ name: 'Fail', value: 'fail', description: 'Stop with an error naming the image' },
			],
			description: 'Wan does not accept images with an alpha channel',
		});
	}
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options,
		...show(operation),
	};
}

/**
 * The whole UI of one image operation, in display order. Each operation file states only what is its
 * own: how images come in and what the prompt asks for.
 */
export function imageOperationProperties(
	operation: ImageOperation,
	options: {
		images: 'single' | 'list' | 'optionalList';
		promptDescription: string;
		promptPlaceholder: string;
		imagesFirst?: boolean;
	},
): INodeProperties[] {
	const images =
		options.images === 'single' ? singleImageProperties(operation) : imageListProperties(operation, options.images === 'list');
	const prompt = promptProperties(operation, options.promptDescription, options.promptPlaceholder);
	return [
		...modelProperties(operation, 'wan2.7-image-pro'),
		...(options.imagesFirst ? [...images, ...prompt] : [...prompt, ...images]),
		...sizeProperties(operation),
		...countProperties(operation),
		...modelOptionsProperties(operation),
		...serviceOptionsProperties(operation),
		...runProperties(operation, true),
		...includeInputFieldsProperties(operation),
		optionsProperty(operation, true),
		retryNotice(operation),
	];
}
