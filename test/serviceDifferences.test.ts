/**
 * A service's differences from the model catalog (catalog/serviceDifferences.ts), applied in one place:
 * the effective entry narrows what the catalog allows, the catalog itself is left unchanged, and the zod
 * validation refuses by the effective limits (side range, step, prompt minimum) with a fix in the message.
 */
import { getModel, modelCatalog, type ModelId } from '../nodes/AlibabaWan/catalog/modelCatalog';
import { applyDifferences, serviceModel, serviceModelsFor, type ServedModels } from '../nodes/AlibabaWan/catalog/serviceDifferences';
import { checkTaskParameters } from '../nodes/AlibabaWan/catalog/taskParameters';

const narrowing: ServedModels = {
	models: ['wan2.7-image-pro', 'wan2.7-image'] as ModelId[],
	modelDifferences: {
		'wan2.7-image-pro': {
			promptMaxLength: 3000,
			promptMinLength: 2,
			watermark: false,
			inputImages: { formats: ['jpeg', 'png', 'webp'] },
			everyOperation: { size: { side: { min: 768, max: 2048 }, step: 16 } },
			operations: { generateImage: { size: { side: { min: 768, max: 4096 } } } },
		},
	},
};

describe('applyDifferences', () => {
	test('fields replace, nested limits merge, per-operation differences apply after everyOperation', () => {
		const pro = serviceModel(narrowing, 'wan2.7-image-pro')!;
		expect(pro.promptMaxLength).toBe(3000);
		expect(pro.watermark).toBe(false);
		expect(pro.inputImages).toEqual({ ...modelCatalog['wan2.7-image-pro'].inputImages, formats: ['jpeg', 'png', 'webp'] });
		expect(pro.operations.editImage!.size).toEqual({ ...modelCatalog['wan2.7-image-pro'].operations.editImage!.size, side: { min: 768, max: 2048 }, step: 16 });
		expect(pro.operations.generateImage!.size.side).toEqual({ min: 768, max: 4096 });
		expect(pro.operations.generateImage!.size.step).toBe(16);
		expect(pro.operations.generateImage!.size.tiers).toEqual(['1K', '2K', '4K']);
	});

	test('the catalog is left as it was, and a model without differences is the catalog entry itself', () => {
		serviceModel(narrowing, 'wan2.7-image-pro');
		expect(modelCatalog['wan2.7-image-pro'].promptMaxLength).toBe(5000);
		expect(modelCatalog['wan2.7-image-pro'].operations.editImage!.size.side).toBeUndefined();
		expect(serviceModel(narrowing, 'wan2.7-image')).toBe(modelCatalog['wan2.7-image']);
		expect(applyDifferences(getModel('wan2.6-image'), undefined)).toBe(modelCatalog['wan2.6-image']);
	});

	test('a service offers only the models it serves', () => {
		expect(serviceModel(narrowing, 'wan2.6-image')).toBeUndefined();
		expect(serviceModelsFor(narrowing, 'editImage').map((model) => model.id)).toEqual(['wan2.7-image-pro', 'wan2.7-image']);
	});
});

describe('validation by the effective limits', () => {
	const pro = serviceModel(narrowing, 'wan2.7-image-pro')!;
	const check = (operation: 'generateImage' | 'editImage', extra: Record<string, unknown>) =>
		checkTaskParameters(pro, operation, { prompt: 'a red apple', n: 1, ...extra });

	test('each side inside the service\'s range, a multiple of its step', () => {
		expect(check('editImage', { size: '1024*768' })).toEqual([]);
		expect(check('generateImage', { size: '4096*2048' })).toEqual([]);
		expect(check('editImage', { size: '4096*2048' }).join()).toMatch(/width 4096 is outside 768 to 2048 pixels/);
		expect(check('editImage', { size: '2048*512' }).join()).toMatch(/height 512 is outside 768 to 2048 pixels.*change the height/);
		expect(check('editImage', { size: '1000*1000' }).join()).toMatch(/multiples of 16 here: use e\.g\. 1008\*1008/);
		// The catalog entry alone (DashScope) accepts the same size.
		expect(checkTaskParameters(getModel('wan2.7-image-pro'), 'editImage', { prompt: 'a red apple', n: 1, size: '1000*1000' })).toEqual([]);
	});

	test('the prompt: the service\'s maximum and minimum', () => {
		expect(check('generateImage', { prompt: 'x'.repeat(3000) })).toEqual([]);
		expect(check('generateImage', { prompt: 'x'.repeat(3001) }).join()).toMatch(/Prompt is 3001 characters; Wan 2\.7 Image Pro accepts at most 3000/);
		expect(check('generateImage', { prompt: 'x' }).join()).toMatch(/Prompt is 1 character\(s\); Wan 2\.7 Image Pro needs at least 2 here/);
		expect(check('generateImage', { watermark: true }).join()).toMatch(/Watermark is not available/);
	});
});
