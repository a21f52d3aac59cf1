/**
 * The node as the n8n editor shows it, evaluated with n8n-workflow's own display logic
 * (NodeHelpers.getNodeParameters / displayParameter, the functions the editor's panel uses):
 * version 2 groups operations by resource, the subtitle reads like a human, and every operation ×
 * model shows exactly the fields the model catalog says it supports. Version 1 keeps its panel.
 */
import { NodeHelpers, Workflow, type INode, type INodeParameters, type INodeProperties, type INodeType } from 'n8n-workflow';

import { AlibabaDashScopeApi } from '../credentials/AlibabaDashScopeApi.credentials';
import { AlibabaWan } from '../nodes/AlibabaWan/AlibabaWan.node';
import { modelCatalog, modelIds, modelsFor, type ImageOperation } from '../nodes/AlibabaWan/catalog/modelCatalog';
import { dashScopeModels } from '../nodes/AlibabaWan/services/dashscope/models';
import { regions } from '../nodes/AlibabaWan/services/dashscope/regions';

const nodeType: INodeType = new AlibabaWan();
const { description } = nodeType;
const imageOperations: ImageOperation[] = ['generateImage', 'editImage', 'fuseImages', 'generateImageSet'];

function node(typeVersion: number, parameters: INodeParameters): INode {
	return { id: '1', name: 'Alibaba Wan', type: 'n8n-nodes-alibaba-wan.alibabaWan', typeVersion, position: [0, 0], parameters };
}

/** The parameters the panel holds for these values (defaults filled in as the editor does). */
function resolved(typeVersion: number, values: INodeParameters): INodeParameters {
	return NodeHelpers.getNodeParameters(description.properties, values, true, false, node(typeVersion, values), description)!;
}

/** The top-level properties the panel shows for these values. */
function shown(typeVersion: number, values: INodeParameters): INodeProperties[] {
	const parameters = resolved(typeVersion, values);
	return description.properties.filter((property) =>
		NodeHelpers.displayParameter(parameters, property, node(typeVersion, parameters), description, parameters),
	);
}

const shownNames = (typeVersion: number, values: INodeParameters) => shown(typeVersion, values).map((property) => property.name);

/** The fields of one image-list entry the panel shows (sub-fields may depend on the root's model). */
function listEntryFields(values: INodeParameters): string[] {
	const parameters = resolved(2, values);
	const images = shown(2, values).find((property) => property.name === 'images');
	if (!images) return [];
	const entry = (images.options![0] as { values: INodeProperties[] }).values;
	const entryValues = { inputType: 'binary' };
	return entry
		.filter((field) => NodeHelpers.displayParameter(entryValues, field, node(2, parameters), description, parameters))
		.map((field) => field.name);
}

describe('version 2 (the default for new nodes): resources and operations', () => {
	test('new nodes get version 2; version 1 stays loadable for saved workflows', () => {
		expect(description.version).toEqual([1, 2]);
		expect(description.defaultVersion).toBe(2);
	});

	test('Resource offers Image and Task; each lists its own operations with action names', () => {
		const resource = shown(2, {}).find((property) => property.name === 'resource');
		expect(resource?.options).toEqual([
			{ name: 'Image', value: 'image' },
			{ name: 'Task', value: 'task' },
		]);
		const operationsOf = (value: string) =>
			(shown(2, { resource: value }).find((property) => property.name === 'operation')?.options ?? []).map((option) => {
				const { name, value: operation, action } = option as { name: string; value: string; action: string };
				return [name, operation, action];
			});
		expect(operationsOf('image')).toEqual([
			['Edit Image', 'editImage', 'Edit an image'],
			['Fuse Images', 'fuseImages', 'Fuse images'],
			['Generate Image', 'generateImage', 'Generate an image'],
			['Generate Image Set', 'generateImageSet', 'Generate an image set'],
		]);
		expect(operationsOf('task')).toEqual([
			['Cancel Task', 'cancelTask', 'Cancel a task'],
			['Wait for Task', 'waitForTask', 'Wait for a task'],
		]);
	});

	test('version 1 keeps its flat operation list and shows no Resource', () => {
		const names = shownNames(1, {});
		expect(names).not.toContain('resource');
		const operation = shown(1, {}).find((property) => property.name === 'operation');
		expect(operation?.options?.map((option) => (option as { value: string }).value)).toEqual([
			'cancelTask',
			'editImage',
			'fuseImages',
			'generateImage',
			'generateImageSet',
			'waitForTask',
		]);
		expect(operation?.default).toBe('editImage');
	});

	test.each([
		['image', 'editImage', 'Edit an image'],
		['image', 'fuseImages', 'Fuse images'],
		['task', 'waitForTask', 'Wait for a task'],
	])('a new %s/%s node is named after its action, "%s" (n8n makeNodeName)', (resource, operation, name) => {
		expect(NodeHelpers.makeNodeName({ resource, operation }, description)).toBe(name);
	});

	test.each([
		[{ resource: 'image', operation: 'editImage', model: 'wan2.7-image' }, 'Edit Image · wan2.7-image'],
		[{ resource: 'image', operation: 'fuseImages', model: 'wan2.6-image' }, 'Fuse Images · wan2.6-image'],
		[{ resource: 'task', operation: 'waitForTask' }, 'Wait for Task'],
	])('the canvas subtitle of %j reads "%s"', (values, expected) => {
		const parameters = resolved(2, values);
		const workflow = new Workflow({
			nodes: [node(2, parameters)],
			connections: {},
			active: false,
			nodeTypes: { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) } as never,
		});
		const subtitle = workflow.expression.getSimpleParameterValue(node(2, parameters), description.subtitle!, 'internal', {});
		expect(subtitle).toBe(expected);
	});
});

describe('fields per operation × model, derived from the model catalog', () => {
	const cases = imageOperations.flatMap((operation) => modelsFor(operation).map((model) => [operation, model.id] as const));

	test.each(cases)('%s on %s: Region Boxes exactly where the catalog has boxes', (operation, model) => {
		const spec = modelCatalog[model].operations[operation]!;
		const values = { resource: 'image', operation, model };
		const boxesAnywhere = shownNames(2, values).includes('boxes') || listEntryFields(values).includes('boxes');
		expect(boxesAnywhere).toBe(Boolean(spec.boxesPerImage));
	});

	test.each(cases)('%s on %s: an image list only where the model takes input images', (operation, model) => {
		const spec = modelCatalog[model].operations[operation]!;
		const names = shownNames(2, { resource: 'image', operation, model });
		if (operation === 'editImage') expect(names).toContain('binaryPropertyName');
		else expect(names.includes('images')).toBe(spec.images.max > 0);
	});

	test.each(['wan2.6-image', 'wan2.5-i2i-preview'])('Fuse Images on %s shows no Region Boxes in the image entries', (model) => {
		expect(listEntryFields({ resource: 'image', operation: 'fuseImages', model })).toEqual(['inputType', 'binaryPropertyName']);
	});

	test.each(['wan2.7-image-pro', 'wan2.7-image'])('Fuse Images on %s shows Region Boxes with their format visible', (model) => {
		expect(listEntryFields({ resource: 'image', operation: 'fuseImages', model })).toContain('boxes');
		const images = shown(2, { resource: 'image', operation: 'fuseImages', model }).find((property) => property.name === 'images')!;
		const boxes = (images.options![0] as { values: INodeProperties[] }).values.find((field) => field.name === 'boxes')!;
		expect(boxes.hint).toContain('x1,y1,x2,y2');
		expect(boxes.placeholder).toMatch(/^\d+,\d+,\d+,\d+/);
	});

	test('"All Binary Fields of the Item" on a box model says boxes need the list; on 2.6 it says nothing about boxes', () => {
		const notice = (model: string) =>
			shown(2, { resource: 'image', operation: 'fuseImages', model, imagesFrom: 'allBinary' }).filter(
				(property) => property.type === 'notice' && /region boxes/i.test(property.displayName),
			);
		expect(notice('wan2.7-image')).toHaveLength(1);
		expect(notice('wan2.6-image')).toHaveLength(0);
		expect(notice('wan2.7-image')[0].displayName).toContain('List Below');
	});

	test('the image list tells the user that entry order is the image number', () => {
		const notices = shown(2, { resource: 'image', operation: 'fuseImages', model: 'wan2.7-image' }).filter(
			(property) => property.type === 'notice',
		);
		expect(notices.map((notice) => notice.displayName).join('\n')).toMatch(/first entry is "image 1".*second "image 2"/);
	});

	test.each(imageOperations)('%s: the prompt has a placeholder and shows each model\'s limit from the catalog', (operation) => {
		const prompt = shown(2, { resource: 'image', operation }).find((property) => property.name === 'prompt')!;
		expect(prompt.placeholder).toBeTruthy();
		for (const model of modelsFor(operation)) {
			expect(prompt.hint).toContain(model.displayName);
			expect(prompt.hint).toContain(model.promptMaxLength.toLocaleString('en-US'));
		}
	});

	test.each(imageOperations)('%s: the panel warns that Retry On Fail submits new, billed tasks', (operation) => {
		const notices = shown(2, { resource: 'image', operation }).filter((property) => property.type === 'notice');
		expect(notices.map((notice) => notice.displayName).join('\n')).toMatch(/Retry On Fail.*new tasks.*billed/);
	});

	test('Include Input Fields: on by default in version 2, off in version 1 (its released behaviour)', () => {
		for (const operation of [...imageOperations, 'waitForTask', 'cancelTask']) {
			const resource = operation.endsWith('Task') ? 'task' : 'image';
			expect([operation, resolved(2, { resource, operation }).includeInputFields]).toEqual([operation, true]);
			expect([operation, resolved(1, { operation }).includeInputFields]).toEqual([operation, false]);
		}
	});

	test('adding the Seed option without typing sends nothing: its default is empty, not 0', () => {
		const modelOptions = shown(2, { resource: 'image', operation: 'editImage' }).find((property) => property.name === 'modelOptions')!;
		const seed = (modelOptions.options as INodeProperties[]).find((option) => option.name === 'seed')!;
		expect(seed.default).toBe('');
		expect(seed.placeholder).toBe('Random');
	});
});

describe('credential: region dropdown and key test', () => {
	const credential = new AlibabaDashScopeApi();
	const region = credential.properties.find((property) => property.name === 'region')!;

	test.each(Object.values(regions))('$displayName names the models it serves, from the catalog', ({ id }) => {
		const option = region.options!.find((entry) => (entry as { value: string }).value === id) as { description: string };
		const served = modelIds.filter((model) => dashScopeModels[model].regions.includes(id));
		if (served.length === modelIds.length) expect(option.description).toContain('every Wan image model');
		else for (const model of served) expect(option.description).toContain(modelCatalog[model].displayName);
	});

	test('a refused key (401) makes the Test button say that keys are bound to their region', () => {
		const rule = credential.test.rules?.find((entry) => entry.type === 'responseCode' && entry.properties.value === 401);
		expect(rule?.properties.message).toMatch(/bound to the region/);
	});
});

describe('one node, several services: each service shows its own models, limits, options and credential', () => {
	const image = (operation: string, extra: INodeParameters = {}) => ({ resource: 'image', operation, ...extra });
	const modelValues = (values: INodeParameters) =>
		(shown(2, values).find((property) => property.name === 'model')?.options ?? []).map((option) => (option as { value: string }).value);

	test('the Service option lists every service; a workflow saved without one runs on DashScope (versions 1 and 2)', () => {
		const service = description.properties.find((property) => property.name === 'service')!;
		expect(service.options?.map((option) => (option as { value: string }).value)).toEqual(['dashscope', 'runware', 'gateway']);
		expect(resolved(1, { operation: 'editImage' }).service).toBe('dashscope');
		expect(resolved(2, image('editImage')).service).toBe('dashscope');
		expect(modelValues(image('editImage'))).toEqual(modelsFor('editImage').map((model) => model.id));
	});

	test.each(imageOperations)('%s on Runware offers the two Wan 2.7 models, by their catalog IDs', (operation) => {
		expect(modelValues(image(operation, { service: 'runware' }))).toEqual(['wan2.7-image-pro', 'wan2.7-image']);
	});

	test('each service asks for its own credential', () => {
		const credentials = description.credentials!.map((credential) => [credential.name, credential.displayOptions?.show?.service]);
		expect(credentials).toEqual([
			['alibabaDashScopeApi', ['dashscope']],
			['runwareApi', ['runware']],
			['wanGatewayApi', ['gateway']],
		]);
	});

	test('Runware\'s narrower limits are what the panel shows: prompt length, and each side 768–2048 (Pro text-to-image 4096) in steps of 16', () => {
		const prompt = shown(2, image('generateImage', { service: 'runware' })).find((property) => property.name === 'prompt')!;
		expect(prompt.hint).toBe('Up to 3,000 characters (Wan 2.7 Image Pro) · 5,000 characters (Wan 2.7 Image)');
		const customSize = (operation: string, model: string) =>
			shown(2, image(operation, { service: 'runware', model, size: 'custom' })).find((property) => property.name === 'customSize')!.description;
		expect(customSize('editImage', 'wan2.7-image')).toContain('width and height 768 to 2048 pixels each, multiples of 16');
		expect(customSize('generateImage', 'wan2.7-image-pro')).toContain('width and height 768 to 4096 pixels each, multiples of 16');
		expect(shown(2, image('editImage', { model: 'wan2.7-image', size: 'custom' })).find((property) => property.name === 'customSize')!.description).not.toContain(
			'multiples of 16',
		);
	});

	test('Model Options on Runware: no Watermark (Runware has none); DashScope keeps it', () => {
		const options = (service: string) => {
			const values = image('generateImage', { service, model: 'wan2.7-image' });
			const collection = shown(2, values).find((property) => property.name === 'modelOptions')!;
			return (collection.options as INodeProperties[])
				.filter((option) => NodeHelpers.displayParameter(resolved(2, values), option, node(2, resolved(2, values)), description, resolved(2, values)))
				.map((option) => option.name);
		};
		expect(options('runware')).toEqual(['colorPalette', 'seed', 'thinkingMode']);
		expect(options('dashscope')).toEqual(['colorPalette', 'seed', 'thinkingMode', 'watermark']);
	});

	test('"Runware Options" appear only on Runware, with their ranges', () => {
		const runwareOptions = shown(2, image('editImage', { service: 'runware' })).find((property) => property.name === 'serviceOptions')!;
		expect(runwareOptions.displayName).toBe('Runware Options');
		expect((runwareOptions.options as INodeProperties[]).map((option) => [option.name, option.typeOptions ?? option.options?.length])).toEqual([
			['imageFormat', 3],
			['imageQuality', { minValue: 20, maxValue: 99, numberPrecision: 0 }],
			['includeCost', undefined],
			['urlLifetimeSeconds', { minValue: 60, maxValue: 86400, numberPrecision: 0 }],
		]);
		expect(shownNames(2, image('editImage'))).not.toContain('serviceOptions');
	});

	test.each(imageOperations)('%s through a gateway offers the two Wan 2.7 models, without a colour palette', (operation) => {
		expect(modelValues(image(operation, { service: 'gateway' }))).toEqual(['wan2.7-image-pro', 'wan2.7-image']);
		const values = image(operation, { service: 'gateway', model: 'wan2.7-image' });
		const collection = shown(2, values).find((property) => property.name === 'modelOptions')!;
		const offered = (collection.options as INodeProperties[])
			.filter((option) => NodeHelpers.displayParameter(resolved(2, values), option, node(2, resolved(2, values)), description, resolved(2, values)))
			.map((option) => option.name);
		expect(offered).not.toContain('colorPalette');
		expect(offered).toEqual(expect.arrayContaining(['seed', 'watermark']));
	});

	test('Wait for Task and Cancel Task through a gateway say it is synchronous; no "Cancel Pending Task" there', () => {
		for (const operation of ['waitForTask', 'cancelTask']) {
			const notices = shown(2, { resource: 'task', operation, service: 'gateway' }).filter((property) => property.type === 'notice');
			expect(notices.map((property) => property.displayName).join()).toMatch(/gateway is synchronous/);
		}
		const values = image('generateImage', { service: 'gateway' });
		const options = shown(2, values).find((property) => property.name === 'options')!;
		const cancelPending = (options.options as INodeProperties[]).find((entry) => entry.name === 'cancelPending')!;
		expect(NodeHelpers.displayParameter(resolved(2, values), cancelPending, node(2, resolved(2, values)), description, resolved(2, values))).toBe(false);
	});

	test('Cancel Task on Runware says why it cannot run; "Cancel Pending Task" is offered only where cancelling exists', () => {
		const notices = (service: string) =>
			shown(2, { resource: 'task', operation: 'cancelTask', service }).filter((property) => property.type === 'notice').map((property) => property.displayName);
		expect(notices('runware').join()).toMatch(/Runware cannot cancel a task/);
		expect(notices('dashscope')).toEqual([]);
		const cancelPending = (service: string) => {
			const values = image('generateImage', { service });
			const options = shown(2, values).find((property) => property.name === 'options')!;
			const option = (options.options as INodeProperties[]).find((entry) => entry.name === 'cancelPending')!;
			return NodeHelpers.displayParameter(resolved(2, values), option, node(2, resolved(2, values)), description, resolved(2, values));
		};
		expect(cancelPending('dashscope')).toBe(true);
		expect(cancelPending('runware')).toBe(false);
	});
});
