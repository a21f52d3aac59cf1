/** Emulator: wan2.5-i2i-preview (image-synthesis protocol) validation and result shape (DASHSCOPE_API.md §4.3, §5.4). */
import { call, expectError, expectTask, finish, i2iBody, jpegUri, setupEmulator, smallPng, submit, SYNC_PATH, validationCalls } from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50 } });

const { ok, bad } = validationCalls(emu);

test('a documented request (recorded SDK sequence A) succeeds with the documented result shape', async () => {
	const body = {
		model: 'wan2.5-i2i-preview',
		parameters: { size: '1280*1280', n: 1, seed: 42, prompt_extend: true, watermark: false },
		input: { prompt: 'put the clock next to the vase', negative_prompt: 'blurry', images: [smallPng(), smallPng()] },
	};
	const id = expectTask(await submit(emu, body));
	const done = await finish(emu, id);
	expect(done.status).toBe(200);
	const out = done.body.output;
	expect(out.task_status).toBe('SUCCEEDED');
	expect(out.results).toEqual([
		{ orig_prompt: 'put the clock next to the vase', actual_prompt: expect.any(String), url: expect.stringMatching(/\/0\.png\?Expires=\d+&OSSAccessKeyId=[^&]+&Signature=/) },
	]);
	expect(out.task_metrics).toEqual({ TOTAL: 1, SUCCEEDED: 1, FAILED: 0 });
	expect(done.body.usage).toEqual({ image_count: 1 });
	expect(out.choices).toBeUndefined();
});

test('prompt_extend=false: no actual_prompt', async () => {
	const id = expectTask(await submit(emu, i2iBody('x', [smallPng()], { n: 2, prompt_extend: false })));
	const done = await finish(emu, id);
	expect(done.body.output.results).toHaveLength(2);
	for (const r of done.body.output.results) expect(Object.keys(r).sort()).toEqual(['orig_prompt', 'url']);
});

test('n 1–4, default 4', async () => {
	expect((await ok(i2iBody('x', [smallPng()]))).requestedImages).toBe(4);
	await bad(i2iBody('x', [smallPng()], { n: 5 }));
	await bad(i2iBody('x', [smallPng()], { n: 0 }));
});

test('prompt required, ≤2000 characters; negative_prompt (in input) ≤500', async () => {
	await ok(i2iBody('p'.repeat(2000), [smallPng()]));
	expect(await bad(i2iBody('p'.repeat(2001), [smallPng()]))).toMatch(/2000/);
	await bad(i2iBody('', [smallPng()]));
	await bad({ model: 'wan2.5-i2i-preview', input: { images: [smallPng()] }, parameters: {} });
	await bad(i2iBody('x', [smallPng()], {}, { negative_prompt: 'n'.repeat(501) }));
	await ok(i2iBody('x', [smallPng()], {}, { negative_prompt: 'n'.repeat(500) }));
});

test('images: 1–3, an array', async () => {
	await bad(i2iBody('x', []));
	await ok(i2iBody('x', [smallPng(), smallPng(), smallPng()]));
	await bad(i2iBody('x', [smallPng(), smallPng(), smallPng(), smallPng()]));
	await bad({ model: 'wan2.5-i2i-preview', input: { prompt: 'x', images: smallPng() } });
	await bad({ model: 'wan2.5-i2i-preview', input: { prompt: 'x' } });
});

test('input images: [384, 5000] px, aspect [1:4, 4:1]', async () => {
	await ok(i2iBody('x', [jpegUri(384, 384)]));
	await bad(i2iBody('x', [jpegUri(383, 500)]));
	await ok(i2iBody('x', [jpegUri(5000, 1250)]));
	await bad(i2iBody('x', [jpegUri(5001, 2000)]));
	await bad(i2iBody('x', [jpegUri(400, 1700)])); // 1:4.25
});

test('size: W*H only, [768², 1280²], aspect [1:4, 4:1]; default ≈1280² at the last input’s aspect', async () => {
	await bad(i2iBody('x', [smallPng()], { size: '1K' }));
	await bad(i2iBody('x', [smallPng()], { size: '1281*1280' }));
	await bad(i2iBody('x', [smallPng()], { size: '767*768' }));
	await ok(i2iBody('x', [smallPng()], { size: '2048*512' }));
	await bad(i2iBody('x', [smallPng()], { size: '2100*500' }));
	const exact = await ok(i2iBody('x', [smallPng()], { size: '1024*1024' }));
	expect([exact.width, exact.height]).toEqual([1024, 1024]);
	const dflt = await ok(i2iBody('x', [jpegUri(500, 500), jpegUri(1600, 900)]));
	expect(dflt.width / dflt.height).toBeCloseTo(16 / 9, 2);
	expect(Math.abs(dflt.width * dflt.height - 1280 * 1280) / (1280 * 1280)).toBeLessThan(0.002);
});

test('legacy/unknown input and parameters keys are tolerated', async () => {
	await ok(i2iBody('x', [smallPng()], { style: '<auto>', ref_strength: 0.5, is_async: true }, { function: 'description_edit', extra_input: {} }));
});

test('no sync HTTP for 2.5', async () => {
	expectError(await call(emu, SYNC_PATH, { json: i2iBody('x', [smallPng()]) }), 400, 'InvalidParameter');
});
