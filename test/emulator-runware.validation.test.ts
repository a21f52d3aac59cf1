/** Runware emulator: every imageInference field of the Wan 2.7 models checked strictly (table-driven), with Runware's error shape and nothing created. */
import { randomUUID } from 'node:crypto';

import {
	bmpImage,
	dataUri,
	expectError,
	inference,
	jpegImage,
	pngImage,
	post,
	PRO,
	serveFiles,
	setupRunware,
	webpImage,
} from './emulator-runware/fixtures';

const emu = setupRunware({ timing: { queueMs: 0, perImageMs: 0, syncDelayMs: 0 } });

const png = dataUri(pngImage(320, 240));
const refs = (n: number) => ({ inputs: { referenceImages: Array.from({ length: n }, () => png) } });
const palette = (ratios: unknown[], extra: Record<string, unknown> = {}) => ({
	settings: { colorPalette: ratios.map((ratio, i) => ({ hex: `#${(i * 25).toString(16).padStart(2, '0')}A0C0`, ratio, ...extra })) },
});

let files: Awaited<ReturnType<typeof serveFiles>>;
beforeAll(async () => {
	files = await serveFiles({ '/photo.png': pngImage(400, 300), '/photo.jpg': jpegImage(300, 400) });
});
afterAll(() => files.close());

type Case = [name: string, over: Record<string, unknown> | (() => Record<string, unknown>), code: string, parameter: string];

const BAD: Case[] = [
	['negativePrompt (not offered for Wan 2.7)', { negativePrompt: 'blurry' }, 'unsupportedParameter', 'negativePrompt'],
	['steps', { steps: 20 }, 'unsupportedParameter', 'steps'],
	['CFGScale', { CFGScale: 7 }, 'unsupportedParameter', 'CFGScale'],
	['scheduler', { scheduler: 'x' }, 'unsupportedParameter', 'scheduler'],
	['providerSettings', { providerSettings: {} }, 'unsupportedParameter', 'providerSettings'],
	['top-level referenceImages', { referenceImages: [png] }, 'unsupportedParameter', 'referenceImages'],
	['webhookURL (not emulated)', { webhookURL: 'http://127.0.0.1:1/hook' }, 'unsupportedParameter', 'webhookURL'],
	['uploadEndpoint (not emulated)', { uploadEndpoint: 'http://127.0.0.1:1/put' }, 'unsupportedParameter', 'uploadEndpoint'],
	['model missing', { model: undefined }, 'missingModel', 'model'],
	['model of another family', { model: 'alibaba:wan@2.6-image' }, 'invalidModel', 'model'],
	['model not a string', { model: 42 }, 'invalidModel', 'model'],
	['positivePrompt missing', { positivePrompt: undefined }, 'missingPositivePrompt', 'positivePrompt'],
	['positivePrompt not a string', { positivePrompt: 42 }, 'invalidPositivePrompt', 'positivePrompt'],
	['positivePrompt 1 character', { positivePrompt: 'a' }, 'invalidPositivePromptLength', 'positivePrompt'],
	['positivePrompt 5001 characters', { positivePrompt: 'x'.repeat(5001) }, 'invalidPositivePromptLength', 'positivePrompt'],
	['Pro positivePrompt 3001 characters', { model: PRO, positivePrompt: 'x'.repeat(3001) }, 'invalidPositivePromptLength', 'positivePrompt'],
	['width missing', { width: undefined }, 'missingWidth', 'width'],
	['height missing', { height: undefined }, 'missingHeight', 'height'],
	['width not a multiple of 16', { width: 1000 }, 'invalidWidth', 'width'],
	['width 752', { width: 752 }, 'invalidWidth', 'width'],
	['width 2064', { width: 2064 }, 'invalidWidth', 'width'],
	['width as a string', { width: '1024' }, 'invalidWidth', 'width'],
	['height fractional', { height: 1024.5 }, 'invalidHeight', 'height'],
	['height 2064', { height: 2064 }, 'invalidHeight', 'height'],
	['Pro width 4112', { model: PRO, width: 4112 }, 'invalidWidth', 'width'],
	['Pro width 2064 with reference images', { model: PRO, width: 2064, ...refs(1) }, 'invalidWidth', 'width'],
	['Pro height 2064 in set mode', { model: PRO, height: 2064, settings: { sequential: true } }, 'invalidHeight', 'height'],
	['seed -1', { seed: -1 }, 'invalidSeed', 'seed'],
	['seed 2147483648', { seed: 2147483648 }, 'invalidSeed', 'seed'],
	['seed as a string', { seed: '5' }, 'invalidSeed', 'seed'],
	['numberResults 0', { numberResults: 0 }, 'invalidNumberResults', 'numberResults'],
	['numberResults 21', { numberResults: 21 }, 'invalidNumberResults', 'numberResults'],
	['numberResults 13 in set mode', { numberResults: 13, settings: { sequential: true } }, 'invalidNumberResults', 'numberResults'],
	['outputType lower case', { outputType: 'url' }, 'invalidOutputType', 'outputType'],
	['outputFormat lower case', { outputFormat: 'jpg' }, 'invalidOutputFormat', 'outputFormat'],
	['outputFormat TIFF', { outputFormat: 'TIFF' }, 'invalidOutputFormat', 'outputFormat'],
	['outputQuality 19', { outputQuality: 19 }, 'invalidOutputQuality', 'outputQuality'],
	['outputQuality 100', { outputQuality: 100 }, 'invalidOutputQuality', 'outputQuality'],
	['outputQuality fractional', { outputQuality: 50.5 }, 'invalidOutputQuality', 'outputQuality'],
	['includeCost as a string', { includeCost: 'true' }, 'invalidIncludeCost', 'includeCost'],
	['deliveryMethod stream', { deliveryMethod: 'stream' }, 'invalidDeliveryMethod', 'deliveryMethod'],
	['ttl 59', { ttl: 59 }, 'invalidTtl', 'ttl'],
	['ttl with base64Data output', { ttl: 120, outputType: 'base64Data' }, 'invalidTtl', 'ttl'],
	['safety as a string', { safety: 'fast' }, 'invalidSafety', 'safety'],
	['safety.mode strict', { safety: { mode: 'strict' } }, 'invalidMode', 'safety.mode'],
	['safety.checkContent as a string', { safety: { checkContent: 'yes' } }, 'invalidCheckContent', 'safety.checkContent'],
	['safety with an unknown key', { safety: { level: 1 } }, 'unsupportedParameter', 'safety.level'],
	['inputs as a string', { inputs: png }, 'invalidInputs', 'inputs'],
	['inputs.images (wrong name)', { inputs: { images: [png] } }, 'unsupportedParameter', 'inputs.images'],
	['referenceImages empty', { inputs: { referenceImages: [] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['referenceImages 10 images', refs(10), 'invalidReferenceImages', 'inputs.referenceImages'],
	['referenceImages with a number', { inputs: { referenceImages: [42] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['settings as a string', { settings: 'fast' }, 'invalidSettings', 'settings'],
	['settings with an unknown key', { settings: { steps: 4 } }, 'unsupportedParameter', 'settings.steps'],
	['settings.sequential as a string', { settings: { sequential: 'yes' } }, 'invalidSequential', 'settings.sequential'],
	['settings.thinking as a number', { settings: { thinking: 1 } }, 'invalidThinking', 'settings.thinking'],
	['colorPalette 2 colours', palette(['50.00%', '50.00%']), 'invalidColorPalette', 'settings.colorPalette'],
	['colorPalette 11 colours', palette([...Array(10).fill('9.00%'), '10.00%']), 'invalidColorPalette', 'settings.colorPalette'],
	['colorPalette ratio as a number', palette([0.5, 0.25, 0.25]), 'invalidColorPalette', 'settings.colorPalette'],
	['colorPalette ratio without decimals', palette(['50%', '25%', '25%']), 'invalidColorPalette', 'settings.colorPalette'],
	['colorPalette ratios summing to 99.99%', palette(['50.00%', '25.00%', '24.99%']), 'invalidColorPalette', 'settings.colorPalette'],
	['colorPalette entry with an extra key', palette(['50.00%', '25.00%', '25.00%'], { name: 'x' }), 'invalidColorPalette', 'settings.colorPalette'],
	[
		'colorPalette hex not #RRGGBB',
		{ settings: { colorPalette: [{ hex: 'red', ratio: '50.00%' }, { hex: '#00FF00', ratio: '25.00%' }, { hex: '#0000FF', ratio: '25.00%' }] } },
		'invalidColorPalette',
		'settings.colorPalette',
	],
	[
		'colorPalette in set mode',
		{ settings: { sequential: true, colorPalette: palette(['50.00%', '25.00%', '25.00%']).settings.colorPalette } },
		'invalidColorPalette',
		'settings.colorPalette',
	],
	['editRegions without reference images', { settings: { editRegions: [[[0, 0, 10, 10]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: fewer lists than images', { ...refs(2), settings: { editRegions: [[]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: 3 boxes on one image', { ...refs(1), settings: { editRegions: [[[0, 0, 9, 9], [10, 10, 19, 19], [20, 20, 29, 29]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: box of 3 numbers', { ...refs(1), settings: { editRegions: [[[0, 0, 10]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: negative coordinate', { ...refs(1), settings: { editRegions: [[[-1, 0, 10, 10]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: x1 >= x2', { ...refs(1), settings: { editRegions: [[[50, 0, 50, 10]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: box outside the 320x240 image', { ...refs(1), settings: { editRegions: [[[0, 0, 321, 10]]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['editRegions: object box missing y2', { ...refs(1), settings: { editRegions: [[{ x1: 0, y1: 0, x2: 5, y3: 5 }]] } }, 'invalidEditRegions', 'settings.editRegions'],
	['reference BMP (not PNG/JPG/WEBP)', { inputs: { referenceImages: [dataUri(bmpImage(300, 300), 'image/bmp')] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference PNG with alpha', { inputs: { referenceImages: [dataUri(pngImage(300, 300, [1, 2, 3], true))] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference 239 px high', { inputs: { referenceImages: [dataUri(pngImage(300, 239))] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference aspect 2000:240 (over 8:1)', { inputs: { referenceImages: [dataUri(pngImage(2000, 240))] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference data URI MIME not matching the bytes', { inputs: { referenceImages: [dataUri(jpegImage(300, 300), 'image/png')] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference corrupt PNG', { inputs: { referenceImages: [dataUri(pngImage(300, 300).subarray(0, 20))] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference neither URL, UUID, data URI nor base64', { inputs: { referenceImages: ['photo.png'] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference URL on the internet (no network)', { inputs: { referenceImages: ['https://example.com/a.png'] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference URL answering 404', () => ({ inputs: { referenceImages: [`${files.origin}/missing.png`] } }), 'invalidReferenceImages', 'inputs.referenceImages'],
	['reference UUID of no image', { inputs: { referenceImages: [randomUUID()] } }, 'invalidReferenceImages', 'inputs.referenceImages'],
];

test.each(BAD.map(([name, over, code, parameter]) => [name, code, parameter, over] as const))(
	'%s → 400 %s (%s), nothing created',
	async (_name, code, parameter, over) => {
	const task = inference(typeof over === 'function' ? over() : over);
	const err = expectError(await post(emu, [task]), 400, code);
	expect(err).toMatchObject({ parameter, taskUUID: task.taskUUID, taskType: 'imageInference', message: expect.stringContaining(parameter) });
	expect(emu.counters()).toMatchObject({ submissions: 1, tasksCreated: 0 });
	expect(emu.tasks()).toEqual([]);
	},
);

test('size errors carry type, min, max and multiplier (as in Runware samples)', async () => {
	expect(expectError(await post(emu, [inference({ width: 1000 })]), 400, 'invalidWidth')).toMatchObject({
		type: 'integer',
		min: 768,
		max: 2048,
		multiplier: 16,
		message: expect.stringMatching(/^Invalid value for 'width' parameter\./),
	});
	expect(expectError(await post(emu, [inference({ model: PRO, height: 4112 })]), 400, 'invalidHeight')).toMatchObject({ max: 4096 });
	expect(expectError(await post(emu, [inference({ positivePrompt: 'x'.repeat(5001) })]), 400, 'invalidPositivePromptLength')).toMatchObject({ min: 2, max: 5000 });
});

const GOOD: Array<[name: string, over: Record<string, unknown> | (() => Record<string, unknown>)]> = [
	['the smallest and largest sides', { width: 768, height: 2048 }],
	['Pro at 4096x4096 without references', { model: PRO, width: 4096, height: 4096 }],
	['a 2-character prompt', { positivePrompt: 'ok' }],
	['a 5000-character prompt', { positivePrompt: 'y'.repeat(5000) }],
	['a Pro 3000-character prompt', { model: PRO, positivePrompt: 'y'.repeat(3000) }],
	['seed 0 and the largest seed', { seed: 2147483647 }],
	['20 results', { numberResults: 20 }],
	['a 12-image set', { numberResults: 12, settings: { sequential: true } }],
	['every output option', { outputType: 'URL', outputFormat: 'WEBP', outputQuality: 20, includeCost: false, ttl: 60, deliveryMethod: 'sync' }],
	['safety on', { safety: { checkContent: true, mode: 'fast' } }],
	['thinking off', { settings: { thinking: false } }],
	['a 3-colour palette', palette(['33.33%', '33.33%', '33.34%'])],
	['a 10-colour palette', palette(Array(10).fill('10.00%'))],
	['thinking on (the default) with a reference image is ignored', { ...refs(1), settings: { thinking: true } }],
	['9 reference images', refs(9)],
	['JPG and WEBP data URIs', { inputs: { referenceImages: [dataUri(jpegImage(300, 300), 'image/jpeg'), dataUri(webpImage(300, 300), 'image/webp')] } }],
	['bare base64', { inputs: { referenceImages: [pngImage(300, 300).toString('base64')] } }],
	['local URLs', () => ({ inputs: { referenceImages: [`${files.origin}/photo.png`, `${files.origin}/photo.jpg`] } })],
	['editRegions as arrays, [] for an image without boxes', { ...refs(2), settings: { editRegions: [[], [[0, 0, 320, 240], [10, 10, 20, 20]]] } }],
	['editRegions as objects', { ...refs(1), settings: { editRegions: [[{ x1: 5, y1: 5, x2: 50, y2: 60 }]] } }],
];

test.each(GOOD)('accepted: %s', async (_name, over) => {
	const task = inference(typeof over === 'function' ? over() : over);
	const answer = await post(emu, [task]);
	expect({ status: answer.status, errors: answer.body.errors }).toEqual({ status: 200, errors: undefined });
	expect(emu.counters().tasksCreated).toBe(1);
	expect(emu.task(task.taskUUID as string)?.numberResults).toBe((task.numberResults as number | undefined) ?? 1);
});

test('inputs are probed from their bytes: formats, sizes and sources are recorded', async () => {
	const task = inference({
		inputs: { referenceImages: [dataUri(jpegImage(304, 400), 'image/jpeg'), pngImage(320, 240).toString('base64'), `${files.origin}/photo.png`] },
	});
	expect((await post(emu, [task])).status).toBe(200);
	expect(emu.task(task.taskUUID as string)?.inputImages).toEqual([
		expect.objectContaining({ source: 'dataURI', format: 'jpeg', width: 304, height: 400 }),
		expect.objectContaining({ source: 'base64', format: 'png', width: 320, height: 240 }),
		expect.objectContaining({ source: 'url', format: 'png', width: 400, height: 300 }),
	]);
});

test('an imageUUID of an earlier result can be a reference image (same key only)', async () => {
	const first = await post(emu, [inference({ width: 768, height: 768, outputFormat: 'PNG' })]);
	const imageUUID = first.body.data![0].imageUUID as string;
	const task = inference({ inputs: { referenceImages: [imageUUID] } });
	expect((await post(emu, [task])).status).toBe(200);
	expect(emu.task(task.taskUUID as string)?.inputImages[0]).toMatchObject({ source: 'uuid', format: 'png', width: 768, height: 768 });

	emu.addKey('rw-other-team');
	const foreign = await post(emu, [inference({ inputs: { referenceImages: [imageUUID] } })], { key: 'rw-other-team' });
	expectError(foreign, 400, 'invalidReferenceImages');
});

test('Pro prompt limit is configurable (proPromptMax)', async () => {
	const { startRunwareEmulator } = await import('./emulator-runware');
	const loose = await startRunwareEmulator({ proPromptMax: 5000 });
	try {
		expect((await post(loose, [inference({ model: PRO, positivePrompt: 'z'.repeat(5000) })])).status).toBe(200);
		expectError(await post(loose, [inference({ model: PRO, positivePrompt: 'z'.repeat(5001) })]), 400, 'invalidPositivePromptLength');
	} finally {
		await loose.close();
	}
});
