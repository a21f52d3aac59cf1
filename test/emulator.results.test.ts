/** Emulator: result PNGs — real files, sizes equal usage.size, deterministic per seed, signed URLs that expire (DASHSCOPE_API.md §4.6). */
import { PNG } from 'pngjs';

import { expectTask, finish, i2iBody, jpegUri, msgBody, setupEmulator, smallPng, submit, syncCall } from './emulator/fixtures';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DAY = 24 * 3600 * 1000;

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50, syncDelayMs: 1 } });

/** Runs a task to SUCCEEDED and returns its image URLs and usage. */
async function generate(body: Record<string, unknown>): Promise<{ urls: string[]; usage: Record<string, unknown> }> {
	const done = await finish(emu, expectTask(await submit(emu, body)));
	expect(done.body.output.task_status).toBe('SUCCEEDED');
	const out = done.body.output;
	const urls: string[] = out.results
		? out.results.map((r: { url: string }) => r.url)
		: out.choices.flatMap((c: { message: { content: Array<{ type: string; image: string }> } }) =>
				c.message.content.filter((i) => i.type === 'image').map((i) => i.image),
			);
	emu.advanceClock(2000); // keep the next submission clear of the limits
	return { urls, usage: done.body.usage };
}

async function download(url: string): Promise<{ status: number; type: string | null; length: string | null; bytes: Buffer }> {
	const res = await fetch(url); // no Authorization: signed URL
	return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), bytes: Buffer.from(await res.arrayBuffer()) };
}

test('a real PNG whose decoded size equals usage.size', async () => {
	const { urls, usage } = await generate(msgBody('wan2.7-image', 'a harbour at dawn', [], { size: '1K', seed: 7 }));
	expect(urls[0]).toMatch(new RegExp(`^${emu.url}/results/ap-southeast-1/[0-9a-f-]+/0\\.png\\?Expires=\\d+&OSSAccessKeyId=\\w+&Signature=`));
	const file = await download(urls[0]);
	expect(file.status).toBe(200);
	expect(file.type).toBe('image/png');
	expect(Number(file.length)).toBe(file.bytes.length);
	expect(file.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
	const png = PNG.sync.read(file.bytes);
	expect(`${png.width}*${png.height}`).toBe(usage.size);
	expect(file.bytes.length).toBeGreaterThan(200 * 1024); // realistic, not a flat colour
	expect(emu.counters().resultDownloads).toBe(1);
});

test('deterministic per seed + prompt; different seed, prompt or index → different bytes', async () => {
	const body = (seed: number, prompt = 'a red fox') => msgBody('wan2.7-image', prompt, [], { size: '768*768', seed, n: 2 });
	const a = await generate(body(11));
	const b = await generate(body(11));
	const c = await generate(body(12));
	const d = await generate(body(11, 'a blue fox'));
	const [a0, a1, b0, c0, d0] = await Promise.all([a.urls[0], a.urls[1], b.urls[0], c.urls[0], d.urls[0]].map(download));
	expect(a.urls[0]).not.toBe(b.urls[0]); // different tasks …
	expect(a0.bytes.equals(b0.bytes)).toBe(true); // … same picture
	expect(a0.bytes.equals(a1.bytes)).toBe(false);
	expect(a0.bytes.equals(c0.bytes)).toBe(false);
	expect(a0.bytes.equals(d0.bytes)).toBe(false);
	// Cached: downloading again gives the same bytes.
	expect((await download(a.urls[0])).bytes.equals(a0.bytes)).toBe(true);
});

test('2.7 tier with an input image: output keeps its aspect, file size equals usage.size', async () => {
	const { urls, usage } = await generate(msgBody('wan2.7-image', 'x', [jpegUri(1200, 600)], { size: '1K', seed: 1 }));
	const png = PNG.sync.read((await download(urls[0])).bytes);
	expect(`${png.width}*${png.height}`).toBe(usage.size);
	expect(png.width / png.height).toBeCloseTo(2, 2);
});

test('2.6 snaps W*H to multiples of 16; 2.5 results download too', async () => {
	const six = await generate(msgBody('wan2.6-image', 'x', [smallPng()], { size: '1000*770', n: 1 }));
	expect(six.usage.size).toBe('1008*768');
	const sixPng = PNG.sync.read((await download(six.urls[0])).bytes);
	expect([sixPng.width, sixPng.height]).toEqual([1008, 768]);

	const five = await generate(i2iBody('x', [smallPng()], { size: '800*1000', n: 2 }));
	expect(five.urls).toHaveLength(2);
	const fivePng = PNG.sync.read((await download(five.urls[1])).bytes);
	expect([fivePng.width, fivePng.height]).toEqual([800, 1000]);
});

test('sync results are real PNGs too', async () => {
	const res = await syncCall(emu, msgBody('wan2.6-image', 'x', [smallPng()], { size: '768*768', n: 1 }));
	const file = await download(res.body.output.choices[0].message.content[0].image);
	expect(file.status).toBe(200);
	expect(PNG.sync.read(file.bytes).width).toBe(768);
});

test('watermark=true changes the picture', async () => {
	const plain = await generate(msgBody('wan2.7-image', 'x', [], { size: '768*768', seed: 3 }));
	const marked = await generate(msgBody('wan2.7-image', 'x', [], { size: '768*768', seed: 3, watermark: true }));
	const [p, m] = await Promise.all([download(plain.urls[0]), download(marked.urls[0])]);
	expect(p.bytes.equals(m.bytes)).toBe(false);
});

test('HEAD answers headers only', async () => {
	const { urls } = await generate(msgBody('wan2.7-image', 'x', [], { size: '768*768' }));
	const res = await fetch(urls[0], { method: 'HEAD' });
	expect(res.status).toBe(200);
	expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1000);
});

test('URLs expire after 24 h (emulator clock): 403 OSS XML "Request has expired"', async () => {
	const { urls } = await generate(msgBody('wan2.7-image', 'x', [], { size: '768*768' }));
	emu.advanceClock(DAY - 10_000);
	expect((await download(urls[0])).status).toBe(200);
	emu.advanceClock(20_000);
	const res = await fetch(urls[0]);
	expect(res.status).toBe(403);
	expect(res.headers.get('content-type')).toMatch(/xml/);
	const xml = await res.text();
	expect(xml).toMatch(/<Code>AccessDenied<\/Code>/);
	expect(xml).toMatch(/<Message>Request has expired\.<\/Message>/);
});

test('tampered or unsigned URLs are refused (the signature covers path and Expires)', async () => {
	const { urls } = await generate(msgBody('wan2.7-image', 'x', [], { size: '768*768' }));
	const tampered = urls[0].replace(/Expires=(\d+)/, (_m, e) => `Expires=${Number(e) + 1000}`);
	const bad = await fetch(tampered);
	expect(bad.status).toBe(403);
	expect(await bad.text()).toMatch(/SignatureDoesNotMatch/);
	const unsigned = await fetch(urls[0].split('?')[0]);
	expect(unsigned.status).toBe(403);
	await unsigned.text();
	const otherIndex = await fetch(urls[0].replace('/0.png', '/5.png'));
	expect(otherIndex.status).toBe(403); // signature covers the path
	await otherIndex.text();
});
