/** Emulator: wan2.7-image-pro / wan2.7-image request validation (DASHSCOPE_API.md §4.1, §4.4, §4.5). */
import { jpegUri, msgBody, setupEmulator, smallPng, syncCall, validationCalls } from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 1 } });

const PRO = 'wan2.7-image-pro';
const STD = 'wan2.7-image';

const { ok, bad } = validationCalls(emu);

describe('messages and prompt', () => {
	test('text-to-image (0 images) and editing with up to 9 images', async () => {
		expect((await ok(msgBody(STD, 'a cat', [], { size: '1K' }))).inputImages).toHaveLength(0);
		const nine = Array.from({ length: 9 }, () => smallPng());
		expect((await ok(msgBody(PRO, 'merge', nine, { size: '1K' }))).inputImages).toHaveLength(9);
		const msg = await bad(msgBody(PRO, 'merge', [...nine, smallPng()], { size: '1K' }));
		expect(msg).toMatch(/at most 9/);
	});

	test('images may come before the text (documented curl order)', async () => {
		const body = { model: PRO, input: { messages: [{ role: 'user', content: [{ image: smallPng() }, { text: 'edit' }] }] }, parameters: { size: '1K' } };
		expect((await ok(body)).inputImages).toHaveLength(1);
	});

	test('exactly one non-empty text item is required', async () => {
		const noText = { model: STD, input: { messages: [{ role: 'user', content: [{ image: smallPng() }] }] }, parameters: {} };
		await bad(noText);
		await bad(msgBody(STD, '   '));
		const twoTexts = { model: STD, input: { messages: [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }] }, parameters: {} };
		await bad(twoTexts);
		await bad({ model: STD, input: { messages: [{ role: 'user', content: [{ text: 42 }] }] } });
	});

	test('message structure: one user message with a content array of {text}|{image}', async () => {
		const content = [{ text: 'a cat' }];
		await bad({ model: STD, input: { messages: [] } });
		await bad({ model: STD, input: {} });
		await bad({ model: STD, input: { messages: [{ role: 'user', content }, { role: 'user', content }] } });
		await bad({ model: STD, input: { messages: [{ role: 'system', content }] } });
		await bad({ model: STD, input: { messages: [{ role: 'user', content: 'a cat' }] } });
		await bad({ model: STD, input: { messages: [{ role: 'user', content: [{ text: 'a', image: smallPng() }] }] } });
		await bad({ model: STD, input: { messages: [{ role: 'user', content: [{ text: 'a' }, { video: 'x' }] }] } });
	});

	test('text over 5000 characters is silently cut (D27), 5000 kept', async () => {
		const long = await ok(msgBody(STD, 'x'.repeat(5001), [], { size: '1K' }));
		expect(long.prompt).toHaveLength(5000);
		expect(long.promptTruncated).toBe(true);
		const exact = await ok(msgBody(STD, 'y'.repeat(5000), [], { size: '1K' }));
		expect(exact.promptTruncated).toBe(false);
		// Characters, not UTF-16 units.
		const cjk = await ok(msgBody(STD, '猫'.repeat(5000), [], { size: '1K' }));
		expect(cjk.promptTruncated).toBe(false);
	});

	test('negative_prompt / prompt_extend are not 2.7 parameters: tolerated as unknown keys', async () => {
		await ok(msgBody(STD, 'a cat', [], { negative_prompt: 'x'.repeat(900), prompt_extend: 'nonsense' }));
	});
});

describe('n and enable_sequential', () => {
	test('set mode off: n 1–4, default 1', async () => {
		expect((await ok(msgBody(STD, 'a', [], { size: '1K' }))).requestedImages).toBe(1);
		expect((await ok(msgBody(STD, 'a', [], { size: '1K', n: 4 }))).requestedImages).toBe(4);
		expect(await bad(msgBody(STD, 'a', [], { n: 5 }))).toMatch(/\[1, 4\]/);
		await bad(msgBody(STD, 'a', [], { n: 0 }));
		await bad(msgBody(STD, 'a', [], { n: 1.5 }));
		await bad(msgBody(STD, 'a', [], { n: '2' }));
	});

	test('set mode on: n 1–12, default 12', async () => {
		expect((await ok(msgBody(PRO, 'a', [], { enable_sequential: true, size: '1K' }))).requestedImages).toBe(12);
		expect((await ok(msgBody(PRO, 'a', [smallPng()], { enable_sequential: true, n: 12, size: '1K' }))).requestedImages).toBe(12);
		await bad(msgBody(PRO, 'a', [], { enable_sequential: true, n: 13 }));
		await bad(msgBody(PRO, 'a', [], { enable_sequential: 'yes' }));
	});

	test('sync answer shapes: set mode = one choice with n images; set mode off n=2 = two choices', async () => {
		const set = await syncCall(emu, msgBody(STD, 'a story', [], { enable_sequential: true, n: 3, size: '1K' }));
		expect(set.status).toBe(200);
		expect(set.body.output.choices).toHaveLength(1);
		expect(set.body.output.choices[0].message.content).toHaveLength(3);
		expect(set.body.usage.image_count).toBe(3);
		emu.advanceClock(5000);
		const two = await syncCall(emu, msgBody(STD, 'two cats', [], { n: 2, size: '1K' }));
		expect(two.body.output.choices).toHaveLength(2);
		expect(two.body.output.choices.map((c: { message: { content: unknown[] } }) => c.message.content.length)).toEqual([1, 1]);
	});
});

describe('size rules', () => {
	test('tiers: 1K ≈ 1024², 2K ≈ 2048² (default), square without input', async () => {
		const k1 = await ok(msgBody(STD, 'a', [], { size: '1K' }));
		expect([k1.width, k1.height]).toEqual([1024, 1024]);
		const dflt = await ok(msgBody(STD, 'a', [], {}));
		expect([dflt.width, dflt.height]).toEqual([2048, 2048]);
	});

	test('with input images a tier keeps the LAST image’s aspect', async () => {
		const snap = await ok(msgBody(STD, 'a', [jpegUri(500, 500), jpegUri(1600, 800)], { size: '2K' }));
		expect(snap.width / snap.height).toBeCloseTo(2, 2);
		expect(Math.abs(snap.width * snap.height - 2048 * 2048) / (2048 * 2048)).toBeLessThan(0.002);
	});

	test('4K: only wan2.7-image-pro, no input image, set mode off', async () => {
		const k4 = await ok(msgBody(PRO, 'a', [], { size: '4K' }));
		expect([k4.width, k4.height]).toEqual([4096, 4096]);
		expect(await bad(msgBody(STD, 'a', [], { size: '4K' }))).toMatch(/4K/);
		expect(await bad(msgBody(PRO, 'a', [smallPng()], { size: '4K' }))).toMatch(/4K/);
		expect(await bad(msgBody(PRO, 'a', [], { size: '4K', enable_sequential: true }))).toMatch(/4K/);
	});

	test('W*H total pixels: pro t2i [768², 4096²]; with images / wan2.7-image [768², 2048²]', async () => {
		const exact = await ok(msgBody(PRO, 'a', [], { size: '4096*4096' }));
		expect([exact.width, exact.height]).toEqual([4096, 4096]);
		await bad(msgBody(PRO, 'a', [], { size: '4097*4096' }));
		await ok(msgBody(STD, 'a', [], { size: '768*768' }));
		await bad(msgBody(STD, 'a', [], { size: '767*768' }));
		await ok(msgBody(STD, 'a', [], { size: '2048*2048' }));
		await bad(msgBody(STD, 'a', [], { size: '2049*2048' }));
		await bad(msgBody(PRO, 'a', [smallPng()], { size: '2049*2048' }));
		const odd = await ok(msgBody(PRO, 'a', [smallPng()], { size: '1001*999' }));
		expect([odd.width, odd.height]).toEqual([1001, 999]); // no 16-px snapping stated for 2.7
	});

	test('W*H aspect [1:8, 8:1]', async () => {
		await ok(msgBody(STD, 'a', [], { size: '2400*300' }));
		await ok(msgBody(STD, 'a', [], { size: '300*2400' }));
		await bad(msgBody(STD, 'a', [], { size: '2500*300' }));
		await bad(msgBody(STD, 'a', [], { size: '300*2500' }));
	});

	test('size syntax', async () => {
		for (const size of ['3K', '2k', '1024x1024', '1024*', '0*1024', ' 1K', 1024]) await bad(msgBody(STD, 'a', [], { size }));
	});
});

describe('seed, watermark, thinking_mode', () => {
	test('seed in [0, 2147483647]; integer strings accepted (official Java example)', async () => {
		expect((await ok(msgBody(STD, 'a', [], { size: '1K', seed: 0 }))).seed).toBe(0);
		expect((await ok(msgBody(STD, 'a', [], { size: '1K', seed: 2147483647 }))).seed).toBe(2147483647);
		expect((await ok(msgBody(STD, 'a', [], { size: '1K', seed: '12345' }))).seed).toBe(12345);
		const random = await ok(msgBody(STD, 'a', [], { size: '1K' }));
		expect(random.seedGenerated).toBe(true);
		await bad(msgBody(STD, 'a', [], { seed: -1 }));
		await bad(msgBody(STD, 'a', [], { seed: 2147483648 }));
		await bad(msgBody(STD, 'a', [], { seed: 1.5 }));
	});

	test('watermark must be a boolean', async () => {
		expect((await ok(msgBody(STD, 'a', [], { size: '1K', watermark: true }))).params.watermark).toBe(true);
		await bad(msgBody(STD, 'a', [], { watermark: 'yes' }));
	});

	test('thinking_mode: applies only to t2i with set mode off; tolerated (ignored) otherwise', async () => {
		expect((await ok(msgBody(PRO, 'a', [], { size: '1K' }))).params.thinking_mode).toBe(true);
		expect((await ok(msgBody(PRO, 'a', [smallPng()], { size: '1K', thinking_mode: true }))).params.thinking_mode).toBe(false);
		expect((await ok(msgBody(PRO, 'a', [], { size: '1K', thinking_mode: true, enable_sequential: true, n: 1 }))).params.thinking_mode).toBe(false);
		expect((await ok(msgBody(PRO, 'a', [], { size: '1K', thinking_mode: 'false' }))).params.thinking_mode).toBe(false);
		await bad(msgBody(PRO, 'a', [], { thinking_mode: 5 }));
	});
});

describe('bbox_list', () => {
	const img = jpegUri(1000, 800);

	test('one list per input image, ≤2 boxes each, inside the image', async () => {
		await ok(msgBody(STD, 'edit', [img, img], { size: '1K', bbox_list: [[], [[0, 0, 10, 10], [20, 20, 1000, 800]]] }));
		await ok(msgBody(STD, 'edit', [], { size: '1K', bbox_list: [] }));
	});

	test('outer length must equal the image count', async () => {
		expect(await bad(msgBody(STD, 'edit', [img, img], { bbox_list: [[]] }))).toMatch(/length of bbox_list/);
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[], []] }));
		await bad(msgBody(STD, 'edit', [], { bbox_list: [[]] }));
		await bad(msgBody(STD, 'edit', [img], { bbox_list: 'x' }));
	});

	test('at most 2 boxes per image', async () => {
		const three = [[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]];
		expect(await bad(msgBody(STD, 'edit', [img], { bbox_list: [three] }))).toMatch(/at most 2/);
	});

	test('boxes are [x1,y1,x2,y2] integers with x1<x2, y1<y2, inside the real pixel size', async () => {
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[10, 10, 5, 20]]] }));
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[10, 10, 20, 10]]] }));
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[-1, 0, 20, 20]]] }));
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[0, 0, 20]]] }));
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[0, 0, 20.5, 20]]] }));
		expect(await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[0, 0, 1001, 800]]] }))).toMatch(/outside input image 1/);
		await bad(msgBody(STD, 'edit', [img], { bbox_list: [[[0, 0, 1000, 801]]] }));
	});
});

describe('color_palette', () => {
	const palette = (ratios: unknown[], hex = '#C2D1E6') => ratios.map((ratio) => ({ hex, ratio }));

	test('3–10 entries, hex colours, ratio strings with 2 decimals summing to 100.00%', async () => {
		const snap = await ok(msgBody(STD, 'a', [], { size: '1K', color_palette: palette(['23.51%', '40.00%', '36.49%']) }));
		expect(snap.params.color_palette).toHaveLength(3);
		await ok(msgBody(STD, 'a', [], { size: '1K', color_palette: palette(Array(10).fill('10.00%')) }));
		await bad(msgBody(STD, 'a', [], { color_palette: palette(['50.00%', '50.00%']) }));
		await bad(msgBody(STD, 'a', [], { color_palette: palette(Array(11).fill('9.09%')) }));
		expect(await bad(msgBody(STD, 'a', [], { color_palette: palette(['33.33%', '33.33%', '33.33%']) }))).toMatch(/100\.00%/);
		await bad(msgBody(STD, 'a', [], { color_palette: palette(['23.5%', '40.00%', '36.50%']) }));
		await bad(msgBody(STD, 'a', [], { color_palette: palette([23.51, 40, 36.49]) }));
		await bad(msgBody(STD, 'a', [], { color_palette: palette(['20.00%', '40.00%', '40.00%'], 'C2D1E6') }));
		await bad(msgBody(STD, 'a', [], { color_palette: palette(['20.00%', '40.00%', '40.00%'], '#C2D1E') }));
	});

	test('ignored (not an error) in set mode', async () => {
		const snap = await ok(msgBody(STD, 'a', [], { size: '1K', enable_sequential: true, n: 2, color_palette: palette(['20.00%', '40.00%', '40.00%']) }));
		expect(snap.params.color_palette).toBeUndefined();
	});
});
