/** Emulator: input-image checks — format, MIME, alpha, pixel size, aspect, file size, URLs, oss:// uploads (DASHSCOPE_API.md §4.4, §8). */
import { startEmulator, type Emulator } from './emulator';
import {
	bmpImage,
	call,
	dataUri,
	expectError,
	expectTask,
	gifImage,
	i2iBody,
	jpegImage,
	msgBody,
	ossUploadForm,
	pngImage,
	serveImages,
	smallPng,
	submit,
	webpImage,
	type HttpResult,
	type ImageServer,
} from './emulator/fixtures';

let emu: Emulator;
let images: ImageServer;
beforeAll(async () => {
	emu = await startEmulator({ timing: { pendingMs: 20, runningMs: 50 } });
	images = await serveImages({
		'/ok.png': pngImage(640, 480),
		'/ok.webp': webpImage(800, 600, 'VP8X'),
		'/alpha.png': pngImage(400, 400, { alpha: true }),
		'/gone.png': 404,
	});
});
afterAll(async () => {
	await emu.close();
	await images.close();
});
beforeEach(() => emu.reset());

async function create(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<HttpResult> {
	const res = await submit(emu, body, { headers });
	emu.advanceClock(5000);
	return res;
}
const withImage = (image: string, model = 'wan2.7-image') => msgBody(model, 'edit this', [image], { size: '1K', n: 1 });
const ok = async (body: Record<string, unknown>, headers?: Record<string, string>) => emu.task(expectTask(await create(body, headers)))!;
const bad = async (body: Record<string, unknown>, code: string, headers?: Record<string, string>) => expectError(await create(body, headers), 400, code);

describe('formats (JPEG, PNG without alpha, BMP, WEBP) by magic bytes', () => {
	test.each([
		['png', pngImage(300, 250), 'image/png'],
		['jpeg', jpegImage(300, 250), 'image/jpeg'],
		['bmp', bmpImage(300, 250), 'image/bmp'],
		['webp (VP8)', webpImage(300, 250, 'VP8'), 'image/webp'],
		['webp (VP8L)', webpImage(300, 250, 'VP8L'), 'image/webp'],
		['webp (VP8X)', webpImage(300, 250, 'VP8X'), 'image/webp'],
	])('%s accepted, real pixel size read', async (_name, bytes, mime) => {
		const snap = await ok(withImage(dataUri(bytes, mime)));
		expect(snap.inputImages[0]).toMatchObject({ source: 'data', width: 300, height: 250, bytes: bytes.length });
	});

	test('GIF and unknown bytes → InvalidImage.FileFormat', async () => {
		await bad(withImage(dataUri(gifImage(300, 300), 'image/gif')), 'InvalidImage.FileFormat');
		await bad(withImage(dataUri(Buffer.from('hello world, not an image'), 'image/png')), 'InvalidImage.FileFormat');
		await bad(withImage(dataUri(jpegImage(300, 300).subarray(0, 12), 'image/jpeg')), 'InvalidImage.FileFormat');
	});

	test('the data URI MIME must match the real bytes', async () => {
		expect(await bad(withImage(dataUri(pngImage(300, 300), 'image/jpeg')), 'InvalidParameter')).toMatch(/does not match/);
		await bad(withImage(dataUri(jpegImage(300, 300), 'image/png')), 'InvalidParameter');
		await bad(withImage(dataUri(jpegImage(300, 300), 'image/jpg')), 'InvalidParameter'); // not a listed MIME type
		await bad(withImage(dataUri(webpImage(300, 300), 'image/bmp')), 'InvalidParameter');
	});

	test('malformed data URIs', async () => {
		await bad(withImage(`data:image/png,${pngImage(300, 300).toString('base64')}`), 'InvalidParameter');
		await bad(withImage('data:image/png;base64,@@@@'), 'InvalidParameter');
		await bad(withImage('data:image/png;base64,'), 'InvalidParameter');
	});

	test('PNG with an alpha channel (colour type 6 or 4, or tRNS) is rejected', async () => {
		for (const opts of [{ alpha: true }, { grayAlpha: true }, { trns: true }]) {
			expect(await bad(withImage(dataUri(pngImage(300, 300, opts), 'image/png')), 'InvalidImage.FileFormat')).toMatch(/alpha/);
		}
	});
});

describe('pixel size, aspect and file size per model', () => {
	test('2.7: sides [240, 8000], aspect [1:8, 8:1]', async () => {
		await ok(withImage(dataUri(jpegImage(240, 240), 'image/jpeg')));
		await bad(withImage(dataUri(jpegImage(239, 240), 'image/jpeg')), 'InvalidParameter');
		await ok(withImage(dataUri(jpegImage(8000, 1000), 'image/jpeg')));
		await bad(withImage(dataUri(jpegImage(8001, 1100), 'image/jpeg')), 'InvalidParameter');
		await ok(withImage(dataUri(jpegImage(240, 1920), 'image/jpeg')));
		expect(await bad(withImage(dataUri(jpegImage(240, 1921), 'image/jpeg')), 'InvalidParameter')).toMatch(/aspect/);
	});

	test('2.7 accepts 20 MB, not one byte more', async () => {
		const limit = 20 * 1024 * 1024;
		await ok(withImage(dataUri(jpegImage(1000, 1000, limit), 'image/jpeg')));
		expect(await bad(withImage(dataUri(jpegImage(1000, 1000, limit + 1), 'image/jpeg')), 'InvalidParameter')).toMatch(/20 MB/);
	});

	test('2.6 and 2.5 accept 10 MB, not one byte more', async () => {
		const limit = 10 * 1024 * 1024;
		const at = dataUri(jpegImage(1000, 1000, limit), 'image/jpeg');
		const over = dataUri(jpegImage(1000, 1000, limit + 1), 'image/jpeg');
		await ok(withImage(at, 'wan2.6-image'));
		expect(await bad(withImage(over, 'wan2.6-image'), 'InvalidParameter')).toMatch(/10 MB/);
		await ok(i2iBody('x', [at]));
		await bad(i2iBody('x', [over]), 'InvalidParameter');
	});

	test('errors name the offending image (first failing one in order)', async () => {
		const msg = await bad(msgBody('wan2.7-image', 'x', [smallPng(), dataUri(gifImage(300, 300), 'image/gif'), 'ftp://x/y.png']), 'InvalidImage.FileFormat');
		expect(msg).toMatch(/input image 2/);
	});
});

describe('http(s) image URLs', () => {
	test('local URLs are downloaded and checked like data URIs', async () => {
		const snap = await ok(withImage(`${images.url}/ok.png`));
		expect(snap.inputImages[0]).toMatchObject({ source: 'url', format: 'png', width: 640, height: 480 });
		expect((await ok(withImage(`${images.url}/ok.webp`))).inputImages[0]).toMatchObject({ format: 'webp', width: 800, height: 600 });
		await bad(withImage(`${images.url}/alpha.png`), 'InvalidImage.FileFormat');
	});

	test('download failures', async () => {
		await bad(withImage(`${images.url}/gone.png`), 'BadRequest.InputDownloadFailed');
		await bad(withImage('http://127.0.0.1:1/refused.png'), 'InvalidURL.ConnectionRefused');
	});

	test('non-local hosts are unreachable (no internet): documented DataInspection download timeout', async () => {
		const msg = await bad(withImage('https://example.com/cat.png'), 'InvalidParameter.DataInspection');
		expect(msg).toMatch(/Download the media resource timed out/);
	});

	test('other schemes and non-strings', async () => {
		await bad(withImage('ftp://127.0.0.1/a.png'), 'InvalidURL');
		await bad(withImage('file:///tmp/a.png'), 'InvalidURL');
		await bad(withImage('just-a-name.png'), 'InvalidURL');
		await bad({ model: 'wan2.7-image', input: { messages: [{ role: 'user', content: [{ text: 'x' }, { image: 42 }] }] } }, 'InvalidParameter');
	});
});

describe('temporary uploads and oss://', () => {
	async function upload(model: string, bytes: Buffer, name = 'in.png'): Promise<string> {
		const policy = await call(emu, `/uploads?action=getPolicy&model=${model}`, { region: 'cn-beijing' });
		expect(policy.status).toBe(200);
		const d = policy.body.data;
		expect(d.upload_host).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
		const key = `${d.upload_dir}/${name}`;
		const form = ossUploadForm(d, key, { bytes, name }, { 'x-oss-content-type': 'image/png' });
		const res = await fetch(d.upload_host, { method: 'POST', body: form });
		expect(res.status).toBe(200);
		await res.text();
		// Same key again is refused (x-oss-forbid-overwrite).
		const again = await fetch(d.upload_host, { method: 'POST', body: form });
		expect(again.status).toBe(409);
		await again.text();
		return `oss://${key}`;
	}
	const RESOLVE = { 'X-DashScope-OssResourceResolve': 'enable' };

	test('upload → oss:// with the resolve header', async () => {
		const oss = await upload('wan2.7-image', pngImage(500, 300));
		const body = msgBody('wan2.7-image', 'edit', [oss], { size: '1K' });
		const res = await submit(emu, body, { region: 'cn-beijing', headers: RESOLVE });
		const snap = emu.task(expectTask(res))!;
		expect(snap.inputImages[0]).toMatchObject({ source: 'oss', width: 500, height: 300 });
	});

	test('oss:// without the resolve header, for another model, or unknown', async () => {
		const oss = await upload('wan2.7-image', pngImage(500, 300));
		const noHeader = await submit(emu, msgBody('wan2.7-image', 'edit', [oss]), { region: 'cn-beijing' });
		expectError(noHeader, 400, 'InvalidParameter.DataInspection');
		const otherModel = await submit(emu, msgBody('wan2.7-image-pro', 'edit', [oss]), { region: 'cn-beijing', headers: RESOLVE });
		expectError(otherModel, 400, 'BadRequest.InputDownloadFailed');
		const unknown = await submit(emu, msgBody('wan2.7-image', 'edit', ['oss://nope/x.png']), { region: 'cn-beijing', headers: RESOLVE });
		expectError(unknown, 400, 'BadRequest.InputDownloadFailed');
	});

	test('upload policy: needs action/model; not offered outside Beijing/Singapore', async () => {
		expectError(await call(emu, '/uploads?action=getPolicy'), 400, 'BadRequest.EmptyModel');
		expectError(await call(emu, '/uploads?action=nope&model=wan2.6-image'), 400, 'InvalidParameter');
		expectError(await call(emu, '/uploads?action=getPolicy&model=wan2.6-image', { region: 'eu-central-1' }), 403, 'AccessDenied');
		expectError(await call(emu, '/uploads?action=getPolicy&model=wan2.6-image', { key: null }), 401, 'InvalidApiKey');
	});

	test('a forged form is refused with an OSS XML error', async () => {
		const form = new FormData();
		form.append('OSSAccessKeyId', 'x');
		form.append('Signature', 'forged');
		form.append('policy', 'e30=');
		form.append('key', 'dashscope-instant/x/y.png');
		form.append('file', new Blob([pngImage(300, 300)]), 'y.png');
		const res = await fetch(`${emu.url}/oss-upload/cn-beijing`, { method: 'POST', body: form });
		expect(res.status).toBe(403);
		expect(res.headers.get('content-type')).toMatch(/xml/);
		expect(await res.text()).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
	});
});
