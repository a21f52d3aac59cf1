/**
 * Gateway emulator dialects (GATEWAY_API.md §8), each selectable per instance: 'seed' (seed 002:
 * `image` string or array, `WxH`, thinking_mode on by default) against 'images' (Modelverse /
 * new-api: `images` array, `W*H`, thinking_mode off by default), single knobs overridden, and the
 * CLI (`npm run emulator -- --service gateway …`) parsing and starting a process.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

import { parseGatewayArgs } from './emulator-gateway/cli';
import { dataUri, expectError, generation, pngImage, post, setupGateway } from './emulator-gateway/fixtures';

const png = dataUri(pngImage(320, 240));

describe("dialect 'seed' (default)", () => {
	const emu = setupGateway();

	test('image as one string or as an array; images is an unknown field', async () => {
		expect((await post(emu, generation({ image: png }))).status).toBe(200);
		expect((await post(emu, generation({ image: [png, png] }))).status).toBe(200);
		const wrong = await post(emu, generation({ images: [png] }));
		expect(expectError(wrong, 400, 'unknown_parameter', 'images')).toContain("'image'");
		expect(emu.generations().map((g) => g.inputImages.length)).toEqual([1, 2]);
	});

	test('explicit sizes are WxH; W*H is refused with a hint', async () => {
		expect((await post(emu, generation({ size: '1536x1024' }))).status).toBe(200);
		expect(expectError(await post(emu, generation({ size: '1536*1024' })), 400, 'InvalidParameter', 'size')).toContain("'1536x1024'");
	});

	test('defaults: thinking_mode true, n 1 / 12, size 2K', async () => {
		await post(emu, generation({ size: undefined }));
		await post(emu, generation({ enable_sequential: true }));
		expect(emu.generations().map((g) => [g.thinkingMode, g.n, g.size])).toEqual([
			[true, 1, '2K'],
			[true, 12, '1K'],
		]);
	});
});

describe("dialect 'images'", () => {
	const emu = setupGateway({ dialect: 'images' });

	test('images must be an array; image is an unknown field', async () => {
		expect((await post(emu, generation({ images: [png] }))).status).toBe(200);
		expect((await post(emu, generation({ images: [png, png, png] }))).status).toBe(200);
		expectError(await post(emu, generation({ images: png })), 400, 'InvalidParameter', 'images');
		expect(expectError(await post(emu, generation({ image: png })), 400, 'unknown_parameter', 'image')).toContain("'images'");
		const tooMany = await post(emu, generation({ images: Array.from({ length: 10 }, () => png) }));
		expectError(tooMany, 400, 'InvalidParameter', 'images');
		const bad = await post(emu, generation({ images: [png, 'data:image/png;base64,AAAA'] }));
		expect(expectError(bad, 400, 'InvalidParameter', 'images')).toMatch(/^images\[1\]:/);
		expect(emu.counters().billedImages).toBe(2);
	});

	test('explicit sizes are W*H; WxH is refused', async () => {
		expect((await post(emu, generation({ size: '1536*1024' }))).status).toBe(200);
		expect(emu.generations()[0]).toMatchObject({ width: 1536, height: 1024 });
		expectError(await post(emu, generation({ size: '1536x1024' })), 400, 'InvalidParameter', 'size');
	});

	test('thinking_mode defaults to false; an explicit true still counts', async () => {
		await post(emu, generation());
		await post(emu, generation({ thinking_mode: true }));
		expect(emu.generations().map((g) => [g.thinkingMode, g.thinkingEffective])).toEqual([
			[false, false],
			[true, true],
		]);
	});
});

describe('single knobs over a preset', () => {
	const emu = setupGateway({ dialect: { preset: 'seed', sizeStyle: 'W*H', unknownFields: 'ignore', promptOptionalWithImages: true } });

	test('W*H with the seed image field; unknown fields ignored; prompt optional with images', async () => {
		expect(emu.dialect).toMatchObject({ name: 'seed', imageField: 'image', sizeStyle: 'W*H' });
		expect((await post(emu, generation({ size: '1024*1024', quality: 'hd', metadata: { a: 1 } }))).status).toBe(200);
		expect((await post(emu, generation({ prompt: undefined, image: png }))).status).toBe(200);
		expectError(await post(emu, generation({ prompt: undefined })), 400, 'InvalidParameter', 'prompt');
		expect(emu.generations().map((g) => g.mode)).toEqual(['text-to-image', 'edit']);
	});
});

describe('CLI', () => {
	test('flags map to options; bad values are refused', () => {
		expect(
			parseGatewayArgs(['--port', '9000', '--dialect', 'images', '--size-style=WxH', '--thinking-default', 'true', '--models-route', 'absent', '--generation-ms', '5', '--key', 'k1', '--key', 'k2']),
		).toEqual({
			port: 9000,
			dialect: { preset: 'images', sizeStyle: 'WxH', defaultThinkingMode: true },
			modelsRoute: 'absent',
			timing: { generationMs: 5 },
			keys: ['k1', 'k2'],
		});
		expect(() => parseGatewayArgs(['--dialect', 'chat'])).toThrow('--dialect must be seed or images');
		expect(() => parseGatewayArgs(['--size-style', 'W-H'])).toThrow('--size-style must be WxH or W*H');
		expect(() => parseGatewayArgs(['--bogus'])).toThrow('unknown option --bogus');
	});

	test('`tsx test/emulator/cli.ts --service gateway` prints its address and serves the dialect asked for', async () => {
		const root = path.resolve(__dirname, '..');
		const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'test/emulator/cli.ts', '--service', 'gateway', '--port', '0', '--dialect', 'images'], {
			cwd: root,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		try {
			const url = await new Promise<string>((resolve, reject) => {
				let out = '';
				child.stdout.on('data', (chunk: Buffer) => {
					out += chunk.toString();
					const m = /Gateway emulator listening on (http:\/\/\S+)/.exec(out);
					if (m) resolve(m[1]);
				});
				child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
			});
			const health = (await (await fetch(`${url}/__emulator/health`)).json()) as Record<string, unknown>;
			expect(health).toMatchObject({ service: 'gateway', dialect: 'images', apiUrl: `${url}/v1` });
		} finally {
			const exited = new Promise((resolve) => child.once('exit', resolve));
			child.kill('SIGTERM');
			await exited;
		}
	});
});
