import {
	base64Stream,
	bufferPayload,
	buildStreamingJsonBody,
	imagePayload,
	type ImagePayload,
} from '../nodes/AlibabaWan/request/streamingJsonBody';
import { seededRandom as rng } from './fixtures/random';

function randomBytes(next: () => number, n: number): Buffer {
	const out = Buffer.alloc(n);
	for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
	return out;
}

/** Splits a buffer into random-sized chunks (including empty ones) as plain Uint8Arrays. */
async function* randomChunks(data: Buffer, next: () => number, maxChunk: number): AsyncIterable<Uint8Array> {
	let at = 0;
	while (at < data.length) {
		const n = Math.floor(next() * (maxChunk + 1)); // 0 is allowed: streams may yield empty chunks
		yield new Uint8Array(data.subarray(at, at + n));
		at += n;
	}
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const chunk of source) parts.push(Buffer.from(chunk));
	return Buffer.concat(parts);
}

/** A gc() function when V8 lets us expose one at runtime (jest does not pass --expose-gc). */
function exposeGc(): (() => void) | undefined {
	try {
		require('node:v8').setFlagsFromString('--expose-gc');
		const gc = require('node:vm').runInNewContext('gc');
		return typeof gc === 'function' ? gc : undefined;
	} catch {
		return undefined;
	}
}

const dataUri = (mime: string, data: Buffer) => `data:${mime};base64,${data.toString('base64')}`;

describe('base64Stream', () => {
	it('equals Buffer#toString("base64") for random lengths and random chunk splits', async () => {
		const next = rng(20240607);
		for (let round = 0; round < 300; round++) {
			const length = round < 10 ? round : Math.floor(next() * 5000);
			const data = randomBytes(next, length);
			const maxChunk = 1 + Math.floor(next() * 40);
			const encoded = await collect(base64Stream(randomChunks(data, next, maxChunk)));
			expect(encoded.toString('latin1')).toBe(data.toString('base64'));
		}
	});

	it('emits 64 KiB blocks for large inputs, padding only the tail', async () => {
		const next = rng(7);
		const data = randomBytes(next, 200_003);
		const blocks: number[] = [];
		const parts: Buffer[] = [];
		for await (const block of base64Stream(randomChunks(data, next, 70_000))) {
			blocks.push(block.length);
			parts.push(Buffer.from(block));
		}
		expect(Buffer.concat(parts).toString('latin1')).toBe(data.toString('base64'));
		expect(blocks.slice(0, -1).every((n) => n === 65536)).toBe(true);
		expect(blocks.length).toBe(Math.ceil(data.toString('base64').length / 65536));
	});
});

describe('buildStreamingJsonBody', () => {
	const prompt = 'A “quoted” "double" \\ back\\slash, emoji 🎨👩‍🎨, CJK 通义万相, tab\t newline\n and \u2028';
	const png = randomBytes(rng(1), 1000);
	const jpeg = randomBytes(rng(2), 70_001); // spans several Base64 blocks, 2 bytes of padding
	const empty = Buffer.alloc(0);

	function request(images: { png: unknown; jpeg: unknown; empty: unknown }) {
		return {
			model: 'wan2.7-image',
			input: {
				messages: [
					{
						role: 'user',
						content: [{ text: prompt }, { image: images.png }, { image: images.jpeg }, { image: images.empty }],
					},
				],
			},
			parameters: { n: 1, size: '2K', watermark: false, seed: null },
			images: [images.png],
		};
	}

	it('is byte-equal to JSON.stringify with the data URIs inlined, with an exact contentLength', async () => {
		const body = buildStreamingJsonBody(
			request({
				png: bufferPayload('image/png', png),
				jpeg: bufferPayload('image/jpeg', jpeg),
				empty: bufferPayload('image/webp', empty),
			}),
		);
		const expected = Buffer.from(
			JSON.stringify(
				request({
					png: dataUri('image/png', png),
					jpeg: dataUri('image/jpeg', jpeg),
					empty: dataUri('image/webp', empty),
				}),
			),
			'utf8',
		);
		const actual = await collect(body.open());
		expect(body.kind).toBe('streaming-json');
		expect(actual.equals(expected)).toBe(true);
		expect(body.contentLength).toBe(expected.length);
		expect(JSON.parse(actual.toString('utf8')).input.messages[0].content[0].text).toBe(prompt);
	});

	it('handles a top-level payload and payloads of every padding length', async () => {
		for (const n of [0, 1, 2, 3, 4, 5, 6, 49151, 49152, 49153]) {
			const data = randomBytes(rng(n), n);
			const body = buildStreamingJsonBody(bufferPayload('image/bmp', data));
			const expected = JSON.stringify(dataUri('image/bmp', data));
			expect((await collect(body.open())).toString('utf8')).toBe(expected);
			expect(body.contentLength).toBe(expected.length);
		}
	});

	it('re-opens every payload on each open() and yields the same bytes', async () => {
		let opens = 0;
		const payload = imagePayload('image/png', png.length, async () => {
			opens++;
			return randomChunks(png, rng(opens), 100);
		});
		const body = buildStreamingJsonBody({ a: payload, b: [payload] });
		const first = await collect(body.open());
		const second = await collect(body.open());
		expect(second.equals(first)).toBe(true);
		expect(opens).toBe(4); // two slots × two opens
		expect(JSON.parse(first.toString('utf8'))).toEqual({ a: dataUri('image/png', png), b: [dataUri('image/png', png)] });
	});

	it('preview() replaces each payload by a short marker', () => {
		const body = buildStreamingJsonBody(request({ png: bufferPayload('image/png', png), jpeg: 'https://x/y.jpg', empty: null }));
		expect(body.preview()).toEqual(request({ png: 'data:image/png;base64,<1000 bytes>', jpeg: 'https://x/y.jpg', empty: null }));
	});

	it('throws when a payload yields fewer or more bytes than declared', async () => {
		const short = imagePayload('image/png', 10, async function* () {
			yield Buffer.alloc(9);
		});
		await expect(collect(buildStreamingJsonBody({ image: short }).open())).rejects.toThrow(
			/image payload #0 \(image\/png\) yielded fewer bytes \(9\) than its declared 10 bytes; the request Content-Length would be wrong/,
		);
		const long = imagePayload('image/jpeg', 10, async function* () {
			yield Buffer.alloc(6);
			yield Buffer.alloc(6);
		});
		await expect(collect(buildStreamingJsonBody({ x: 1, image: long }).open())).rejects.toThrow(
			/image payload #0 \(image\/jpeg\) yielded more bytes/,
		);
	});

	it('a prompt containing the placeholder text cannot be confused with an image slot', async () => {
		// Force the first nonce, then put exactly that placeholder into user text: a new nonce must be drawn.
		const random = jest.spyOn(Math, 'random').mockReturnValueOnce(0.5);
		const now = jest.spyOn(Date, 'now').mockReturnValueOnce(1000);
		const forced = `wanimg${(0.5).toString(36).slice(2)}${(1000).toString(36)}0x0x`;
		try {
			const value = { text: `evil ${forced} and wanimg`, image: bufferPayload('image/png', png), [forced]: 'key' };
			const body = buildStreamingJsonBody(value);
			const out = (await collect(body.open())).toString('utf8');
			expect(out).toBe(JSON.stringify({ ...value, image: dataUri('image/png', png) }));
			expect(body.contentLength).toBe(Buffer.byteLength(out));
			expect(body.preview()).toEqual({ ...value, image: 'data:image/png;base64,<1000 bytes>' });
			expect(random).toHaveBeenCalled();
		} finally {
			random.mockRestore();
			now.mockRestore();
		}
	});

	it('closes the payload stream when the consumer stops early', async () => {
		let closed = false;
		const payload = imagePayload('image/png', 1_000_000, async function* () {
			try {
				for (let i = 0; i < 1000; i++) yield Buffer.alloc(1000, 1);
			} finally {
				closed = true;
			}
		});
		for await (const chunk of buildStreamingJsonBody({ image: payload }).open()) {
			if (chunk.length > 1000) break; // first Base64 block
		}
		expect(closed).toBe(true);
	});

	it('rejects invalid payload declarations and non-JSON values', () => {
		expect(() => imagePayload('image/png', -1, async function* () {})).toThrow(/byteLength/);
		expect(() => imagePayload('image/png', 1.5, async function* () {})).toThrow(/byteLength/);
		expect(() => imagePayload('image/png;base64,', 1, async function* () {})).toThrow(/MIME/);
		expect(() => buildStreamingJsonBody(undefined)).toThrow(/not serialisable/);
	});

	it('keeps memory flat while streaming a 50 MB synthetic payload', async () => {
		const size = 50 * 1024 * 1024;
		const chunkSize = 64 * 1024;
		const payload: ImagePayload = imagePayload('image/jpeg', size, async function* () {
			// Generated chunk by chunk: nothing ever holds the whole image.
			for (let at = 0; at < size; at += chunkSize) {
				yield Buffer.alloc(Math.min(chunkSize, size - at), at & 0xff);
			}
		});
		const body = buildStreamingJsonBody({ model: 'wan2.7-image', input: { image: payload } });
		// Collect garbage before each sample so we measure what is retained, not what V8 has yet to sweep
		// (each 64 KiB block leaves a string and a buffer behind). Without a usable gc() the bound is only
		// loosened: retaining the payload would still cost well over 67 MB of Base64.
		const gc = exposeGc();
		const used = () => {
			gc?.();
			const m = process.memoryUsage();
			return m.heapUsed + m.arrayBuffers;
		};
		const baseline = used();
		let peak = 0;
		let total = 0;
		let chunks = 0;
		for await (const chunk of body.open()) {
			total += chunk.length;
			if (++chunks % 128 === 0) peak = Math.max(peak, used() - baseline);
		}
		expect(total).toBe(body.contentLength);
		expect(body.contentLength).toBeGreaterThan((size * 4) / 3);
		expect(peak).toBeLessThan((gc ? 20 : 40) * 1024 * 1024);
	});
});
