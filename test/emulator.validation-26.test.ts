/** Emulator: wan2.6-image request validation, edit and interleave modes (DASHSCOPE_API.md §4.2, §4.5, §5.1, §5.2). */
import { expectError, expectTask, finish, jpegUri, msgBody, setupEmulator, smallPng, submit, syncCall, validationCalls } from './emulator/fixtures';

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 1 } });

const M = 'wan2.6-image';

const { ok, bad } = validationCalls(emu);
const edit = (params: Record<string, unknown> = {}, images = [smallPng()], text = 'make it blue') => msgBody(M, text, images, params);
const interleave = (params: Record<string, unknown> = {}, images: string[] = []) => msgBody(M, 'a short illustrated story', images, { enable_interleave: true, ...params });

describe('edit mode (enable_interleave=false)', () => {
	test('1–4 input images required', async () => {
		expect(await bad(edit({}, []))).toMatch(/At least one input image/);
		expect((await ok(edit({}, [smallPng()]))).inputImages).toHaveLength(1);
		expect((await ok(edit({}, Array(4).fill(smallPng())))).inputImages).toHaveLength(4);
		await bad(edit({}, Array(5).fill(smallPng())));
	});

	test('exactly one text item, ≤2000 characters', async () => {
		await ok(edit({}, [smallPng()], 'x'.repeat(2000)));
		expect(await bad(edit({}, [smallPng()], 'x'.repeat(2001)))).toMatch(/2000/);
		const two = { model: M, input: { messages: [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }, { image: smallPng() }] }] } };
		await bad(two);
	});

	test('negative_prompt ≤500 characters', async () => {
		await ok(edit({ negative_prompt: 'n'.repeat(500) }));
		await bad(edit({ negative_prompt: 'n'.repeat(501) }));
		await bad(edit({ negative_prompt: 5 }));
	});

	test('n 1–4, default 4', async () => {
		expect((await ok(edit())).requestedImages).toBe(4);
		expect((await ok(edit({ n: 1 }))).requestedImages).toBe(1);
		await bad(edit({ n: 5 }));
		await bad(edit({ n: 0 }));
	});

	test('prompt_extend boolean, default true; watermark/seed checked', async () => {
		expect((await ok(edit())).params.prompt_extend).toBe(true);
		expect((await ok(edit({ prompt_extend: false }))).params.prompt_extend).toBe(false);
		await bad(edit({ prompt_extend: 'no' }));
		await bad(edit({ watermark: 1 }));
		await bad(edit({ seed: 2147483648 }));
	});

	test('size: 1K (≈1280², default) / 2K (≈2048²) at the last input’s aspect, snapped to 16', async () => {
		const dflt = await ok(edit({}, [jpegUri(1200, 800)]));
		expect(dflt.width % 16).toBe(0);
		expect(dflt.height % 16).toBe(0);
		expect(dflt.width / dflt.height).toBeCloseTo(1.5, 1);
		expect(Math.abs(dflt.width * dflt.height - 1280 * 1280) / (1280 * 1280)).toBeLessThan(0.03);
		const k2 = await ok(edit({ size: '2K' }, [jpegUri(800, 800)]));
		expect([k2.width, k2.height]).toEqual([2048, 2048]);
		await bad(edit({ size: '4K' }));
		await bad(edit({ size: '3K' }));
	});

	test('W*H: [768², 2048²], aspect [1:4, 4:1], output snapped to multiples of 16', async () => {
		const snapped = await ok(edit({ size: '1000*1000' }));
		expect([snapped.width, snapped.height]).toEqual([1008, 1008]);
		await ok(edit({ size: '2048*2048' }));
		await bad(edit({ size: '2049*2048' }));
		await bad(edit({ size: '767*768' }));
		await ok(edit({ size: '2048*512' }));
		await bad(edit({ size: '2400*560' })); // 4.29:1
	});

	test('sync n=2 answers two choices with one image each; tokens are 0', async () => {
		const res = await syncCall(emu, edit({ n: 2, size: '1280*1280' }));
		expect(res.status).toBe(200);
		expect(res.body.output.finished).toBe(true);
		expect(res.body.output.choices).toHaveLength(2);
		for (const choice of res.body.output.choices) {
			expect(choice.finish_reason).toBe('stop');
			expect(choice.message.role).toBe('assistant');
			expect(choice.message.content).toEqual([{ image: expect.stringMatching(/\.png\?Expires=\d+&/), type: 'image' }]);
		}
		expect(res.body.usage).toEqual({ image_count: 2, size: '1280*1280', input_tokens: 0, output_tokens: 0, total_tokens: 0 });
	});

	test('input aspect is not limited on 2.6 (it is on 2.7)', async () => {
		await ok(edit({}, [jpegUri(240, 3000)]));
		await bad(msgBody('wan2.7-image', 'x', [jpegUri(240, 3000)]));
	});
});

describe('interleave mode (enable_interleave=true)', () => {
	test('0 or 1 input image', async () => {
		await ok(interleave());
		await ok(interleave({}, [smallPng()]));
		await bad(interleave({}, [smallPng(), smallPng()]));
	});

	test('n must be 1 (documented message); max_images 1–5, default 5', async () => {
		expect(await bad(interleave({ n: 2 }))).toBe('num_images_per_prompt must be 1');
		await ok(interleave({ n: 1 }));
		expect((await ok(interleave())).requestedImages).toBe(5);
		expect((await ok(interleave({ max_images: 2 }))).requestedImages).toBe(2);
		await bad(interleave({ max_images: 6 }));
		await bad(interleave({ max_images: 0 }));
	});

	test('size: W*H only, [768², 1280²]; default 1280*1280 without input, follows the input otherwise', async () => {
		await bad(interleave({ size: '1K' }));
		await bad(interleave({ size: '1281*1281' }));
		await ok(interleave({ size: '1280*1280' }));
		const dflt = await ok(interleave());
		expect([dflt.width, dflt.height]).toEqual([1280, 1280]);
		const follows = await ok(interleave({}, [jpegUri(960, 720)]));
		expect([follows.width, follows.height]).toEqual([960, 720]);
		const scaled = await ok(interleave({}, [jpegUri(4000, 2000)]));
		expect(scaled.width * scaled.height).toBeLessThanOrEqual(1296 * 1296);
		expect(scaled.width / scaled.height).toBeCloseTo(2, 1);
	});

	test('async interleave result: one choice mixing text and image items', async () => {
		const id = expectTask(await submit(emu, interleave({ max_images: 2 })));
		const done = await finish(emu, id);
		expect(done.body.output.task_status).toBe('SUCCEEDED');
		const choices = done.body.output.choices;
		expect(choices).toHaveLength(1);
		expect(choices[0].message.content.map((c: { type: string }) => c.type)).toEqual(['text', 'image', 'text', 'image']);
		expect(done.body.usage.image_count).toBe(2);
	});

	test('sync interleave requires stream=true and the SSE header, then streams SSE', async () => {
		expect(expectError(await syncCall(emu, interleave()), 400, 'InvalidParameter')).toMatch(/stream/);
		expectError(await syncCall(emu, interleave({ stream: true })), 400, 'InvalidParameter');
		const res = await syncCall(emu, interleave({ stream: true, max_images: 2 }), { headers: { 'X-DashScope-Sse': 'enable' } });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
		const events = res.text
			.split('\n\n')
			.filter(Boolean)
			.map((frame) => JSON.parse(frame.split('\n').find((l) => l.startsWith('data:'))!.slice(5)));
		expect(events).toHaveLength(4);
		expect(events.map((e) => e.output.choices[0].finish_reason)).toEqual(['null', 'null', 'null', 'stop']);
		expect(events[3].output.finished).toBe(true);
		expect(events.every((e) => e.usage.image_count === 2)).toBe(true);
		expect(res.text).toMatch(/^id:1\nevent:result\n/);
	});
});
