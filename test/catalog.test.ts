/**
 * The model catalog as a pure planner: its entries are consistent, the UI is derived from it, and
 * the zod validation accepts exactly what it allows. No HTTP here.
 */
import type { INodeProperties } from 'n8n-workflow';

import { AlibabaWan } from '../nodes/AlibabaWan/AlibabaWan.node';
import {
	getModel,
	modelCatalog,
	modelIds,
	modelsFor,
	type ImageOperation,
} from '../nodes/AlibabaWan/catalog/modelCatalog';
import { dashScopeModels } from '../nodes/AlibabaWan/services/dashscope/models';
import { regions, resolveBaseUrl } from '../nodes/AlibabaWan/services/dashscope/regions';
import { checkTaskParameters, normalizeSize, type ImageTaskParameters } from '../nodes/AlibabaWan/catalog/taskParameters';

const operations: ImageOperation[] = ['generateImage', 'editImage', 'fuseImages', 'generateImageSet'];
const properties = new AlibabaWan().description.properties;

/** The properties shown for this operation and model on DashScope (which serves the catalog as it is). */
function visible(name: string, operation: string, model: string): INodeProperties[] {
	return properties.filter((property) => {
		if (property.name !== name) return false;
		const show = property.displayOptions?.show ?? {};
		if (show.service && !show.service.includes('dashscope')) return false;
		if (show.operation && !show.operation.includes(operation)) return false;
		if (show.model && !show.model.includes(model)) return false;
		return true;
	});
}

describe('model catalog entries', () => {
	test.each(modelIds)('%s: every range is ordered and every default lies inside it', (id) => {
		const model = modelCatalog[id];
		expect(model.id).toBe(id);
		expect(dashScopeModels[id].regions.length).toBeGreaterThan(0);
		for (const [operation, spec] of Object.entries(model.operations)) {
			expect([operation, spec.images.min <= spec.images.max]).toEqual([operation, true]);
			expect(spec.n.min).toBeLessThanOrEqual(spec.n.default);
			expect(spec.n.default).toBeLessThanOrEqual(spec.n.max);
			expect(spec.size.customPixels.min).toBeLessThan(spec.size.customPixels.max);
			expect(spec.size.customAspect.min).toBeLessThan(spec.size.customAspect.max);
		}
	});

	test('capability matrix matches the documented API (DASHSCOPE_API.md §10)', () => {
		expect(modelsFor('generateImageSet').map((m) => m.id)).toEqual(['wan2.7-image-pro', 'wan2.7-image']);
		expect(modelsFor('generateImage').map((m) => m.id)).toEqual(['wan2.7-image-pro', 'wan2.7-image', 'wan2.6-image']);
		expect(modelsFor('editImage')).toHaveLength(4);
		expect(modelsFor('fuseImages').map((m) => [m.id, m.operations.fuseImages!.images.max])).toEqual([
			['wan2.7-image-pro', 9],
			['wan2.7-image', 9],
			['wan2.6-image', 4],
			['wan2.5-i2i-preview', 3],
		]);
		expect(getModel('wan2.7-image-pro').operations.generateImage!.size.tiers).toContain('4K');
		expect(getModel('wan2.7-image').operations.generateImage!.size.tiers).not.toContain('4K');
		expect(getModel('wan2.7-image-pro').operations.generateImageSet!.size.tiers).not.toContain('4K');
		expect(dashScopeModels['wan2.6-image'].regions).toEqual(['ap-southeast-1', 'cn-beijing', 'us-east-1', 'eu-central-1']);
		expect(dashScopeModels['wan2.5-i2i-preview'].protocol).toBe('image-synthesis');
		expect(() => getModel('wan9-image')).toThrow(/Unknown model "wan9-image"/);
	});
});

describe('UI derived from the catalog', () => {
	test.each(operations)('%s: the model list is exactly the models offering it', (operation) => {
		const [modelProperty] = properties.filter(
			(p) => p.name === 'model' && p.displayOptions?.show?.operation?.includes(operation),
		);
		expect(modelProperty.options?.map((o) => (o as { value: string }).value)).toEqual(modelsFor(operation).map((m) => m.id));
	});

	test.each(operations.flatMap((operation) => modelsFor(operation).map((model) => [operation, model.id] as const)))(
		'%s / %s: one size and one count field, with the catalog tiers and range',
		(operation, id) => {
			const spec = getModel(id).operations[operation]!;
			const sizes = visible('size', operation, id);
			expect(sizes).toHaveLength(1);
			expect(sizes[0].options!.map((o) => (o as { value: string }).value)).toEqual(['default', ...spec.size.tiers, 'custom']);
			const counts = visible('numberOfImages', operation, id);
			if (spec.n.max > 1) {
				expect(counts).toHaveLength(1);
				expect(counts[0].typeOptions).toEqual({ minValue: spec.n.min, maxValue: spec.n.max });
				expect(counts[0].default).toBe(spec.n.default);
			} else {
				expect(counts).toHaveLength(0);
			}
		},
	);

	test('model options appear only for the models that support them', () => {
		const [editOptions] = properties.filter(
			(p) => p.name === 'modelOptions' && p.displayOptions?.show?.operation?.includes('editImage'),
		);
		const optionModels = (name: string) =>
			(editOptions.options as INodeProperties[]).find((o) => o.name === name)!.displayOptions!.show!['/model'];
		expect(optionModels('negativePrompt')).toEqual(['wan2.6-image', 'wan2.5-i2i-preview']);
		expect(optionModels('promptExtend')).toEqual(['wan2.6-image', 'wan2.5-i2i-preview']);
		expect(optionModels('colorPalette')).toEqual(['wan2.7-image-pro', 'wan2.7-image']);
		expect(optionModels('thinkingMode')).toEqual([]);
		const boxes = visible('boxes', 'editImage', 'wan2.7-image');
		expect(boxes).toHaveLength(1);
		expect(visible('boxes', 'editImage', 'wan2.6-image')).toHaveLength(0);
	});
});

describe('task parameters (zod schema from the catalog)', () => {
	const base: ImageTaskParameters = { prompt: 'a red apple', n: 1 };
	const check = (id: string, operation: ImageOperation, extra: Partial<ImageTaskParameters>) =>
		checkTaskParameters(getModel(id), operation, { ...base, ...extra });

	test('accepts what the catalog allows', () => {
		expect(check('wan2.7-image-pro', 'generateImage', { size: '4K', seed: 2147483647, thinkingMode: false })).toEqual([]);
		expect(check('wan2.7-image', 'editImage', { size: '2048*1024', watermark: true })).toEqual([]);
		expect(check('wan2.7-image', 'generateImageSet', { n: 12 })).toEqual([]);
		expect(check('wan2.6-image', 'editImage', { negativePrompt: 'blur', promptExtend: false, n: 4 })).toEqual([]);
		expect(check('wan2.5-i2i-preview', 'fuseImages', { size: '1280*720' })).toEqual([]);
		expect(
			check('wan2.7-image', 'generateImage', {
				colorPalette: [
					{ hex: '#C2D1E6', ratio: '23.51%' },
					{ hex: '#000000', ratio: '26.49%' },
					{ hex: '#FFFFFF', ratio: '50.00%' },
				],
			}),
		).toEqual([]);
	});

	test.each([
		['wan2.7-image', 'generateImage', { size: '4K' }, /Size "4K" is not a size this model accepts/],
		['wan2.7-image-pro', 'generateImageSet', { size: '4K' }, /Size "4K"/],
		['wan2.5-i2i-preview', 'editImage', { size: '1K' }, /tiers: none/],
		['wan2.7-image', 'editImage', { size: '4096*4096' }, /2048\*2048 pixels/],
		['wan2.6-image', 'editImage', { size: '3000*600' }, /aspect ratio 5:1; allowed 1:4 to 4:1/],
		['wan2.7-image', 'editImage', { n: 5 }, /Number of Images must be at most 4/],
		['wan2.7-image', 'generateImageSet', { n: 13 }, /at most 12/],
		['wan2.6-image', 'generateImage', { n: 2 }, /at most 1/],
		['wan2.7-image', 'editImage', { seed: -1 }, /Seed must be between 0 and 2147483647/],
		['wan2.7-image', 'editImage', { negativePrompt: 'x' }, /Negative Prompt.*not available/],
		['wan2.6-image', 'editImage', { negativePrompt: 'x'.repeat(501) }, /at most 500/],
		['wan2.7-image', 'editImage', { prompt: 'x'.repeat(5001) }, /5001 characters; Wan 2.7 Image accepts at most 5000/],
		['wan2.5-i2i-preview', 'editImage', { prompt: 'x'.repeat(2001) }, /at most 2000/],
		['wan2.7-image', 'editImage', { prompt: '   ' }, /Prompt is required/],
		['wan2.7-image', 'editImage', { thinkingMode: true }, /Thinking mode is not available/],
		['wan2.7-image', 'generateImageSet', { colorPalette: [] }, /colour palette is not available/i],
		[
			'wan2.7-image',
			'generateImage',
			{ colorPalette: [{ hex: '#C2D1E6', ratio: '50.00%' }, { hex: '#000000', ratio: '50.00%' }] },
			/at least 3 colours/,
		],
		[
			'wan2.7-image',
			'generateImage',
			{
				colorPalette: [
					{ hex: '#C2D1E6', ratio: '30.00%' },
					{ hex: '#000000', ratio: '30.00%' },
					{ hex: 'red', ratio: '30.00%' },
				],
			},
			/#3.*#C2D1E6|ratios add up to 90.00%/,
		],
	] as const)('%s %s: rejected case %#', (id, operation, extra, message) => {
		const problems = check(id, operation, extra as Partial<ImageTaskParameters>);
		expect(problems.join('\n')).toMatch(message);
	});

	test('sizes are normalised before validation', () => {
		expect(normalizeSize(' 1024 x 768 ')).toBe('1024*768');
		expect(normalizeSize('2k')).toBe('2K');
		expect(normalizeSize('')).toBeUndefined();
	});
});

describe('regions', () => {
	test('base URLs: shared host, workspace host, override, Frankfurt needs a workspace', () => {
		expect(resolveBaseUrl({ region: 'ap-southeast-1' })).toBe('https://dashscope-intl.aliyuncs.com/api/v1');
		expect(resolveBaseUrl({ region: 'cn-beijing' })).toBe('https://dashscope.aliyuncs.com/api/v1');
		expect(resolveBaseUrl({ region: 'us-east-1', workspaceId: 'ws-123' })).toBe(
			'https://ws-123.us-east-1.maas.aliyuncs.com/api/v1',
		);
		expect(resolveBaseUrl({ region: 'eu-central-1', baseUrl: 'http://127.0.0.1:8787/eu-central-1/api/v1/' })).toBe(
			'http://127.0.0.1:8787/eu-central-1/api/v1',
		);
		expect(() => resolveBaseUrl({ region: 'eu-central-1' })).toThrow(/Workspace ID/);
		expect(() => resolveBaseUrl({ region: 'ap-southeast-1', workspaceId: 'evil.com/x' })).toThrow(/Workspace ID/);
		expect(() => resolveBaseUrl({ region: 'ap-southeast-1', baseUrl: 'ftp://x' })).toThrow(/http/);
		// The same check as every service's base URL (transport checkBaseUrl): the key never goes to a URL with a password in it.
		expect(() => resolveBaseUrl({ region: 'ap-southeast-1', baseUrl: 'https://u:p@proxy.example/api/v1' })).toThrow(
			/Base URL must not contain a user name or password/,
		);
		expect(() => resolveBaseUrl({ region: 'ap-southeast-1', baseUrl: 'not a url' })).toThrow(/Base URL "not a url" is not a valid URL/);
		expect(Object.keys(regions)).toEqual(['ap-southeast-1', 'cn-beijing', 'us-east-1', 'eu-central-1']);
	});
});
