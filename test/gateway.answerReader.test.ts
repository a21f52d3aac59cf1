/**
 * The gateway's streaming answer reader (services/gateway/answerReader.ts): whatever way the answer is
 * cut into chunks, it builds what JSON.parse builds, except that `data[i].b64_json` arrives decoded
 * (exactly Buffer.from(b64, 'base64')); escapes, multi-byte characters across chunk edges, and wrong
 * JSON are handled; the caps hold.
 */
import { Readable } from 'node:stream';

import { StreamingAnswerParser, isB64JsonPath, readAnswer, type InlineImage } from '../nodes/AlibabaWan/services/gateway/answerReader';
import { seededRandom } from './fixtures/random';

/** Feeds `text` to a parser in chunks cut at random byte offsets. */
function parseInChunks(text: string, random: () => number, inlineAt = isB64JsonPath): unknown {
	const bytes = Buffer.from(text, 'utf8');
	const parser = new StreamingAnswerParser(inlineAt);
	for (let at = 0; at < bytes.length; ) {
		const size = 1 + Math.floor(random() * (random() < 0.2 ? 4 : 300));
		parser.write(bytes.subarray(at, at + size));
		at += size;
	}
	return parser.end();
}

/** Random JSON values: every type, escapes, unicode (astral too), nesting. */
function randomValue(random: () => number, depth = 0): unknown {
	const pick = Math.floor(random() * (depth > 3 ? 4 : 6));
	const strings = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'ünïcödé 漢字', 'emoji 😀 pair', '\u0001 control', '/slash/'];
	switch (pick) {
		case 0:
			return strings[Math.floor(random() * strings.length)];
		case 1:
			return [0, -1, 3.25, 1e21, -2.5e-7, 2147483647][Math.floor(random() * 6)];
		case 2:
			return [true, false, null][Math.floor(random() * 3)];
		case 3:
			return strings[Math.floor(random() * strings.length)] + String(random());
		case 4:
			return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
		default:
			return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}${strings[i % strings.length]}`, randomValue(random, depth + 1)]));
	}
}

test('any JSON, cut anywhere, parses to what JSON.parse gives (200 seeded cases)', () => {
	const random = seededRandom(11);
	for (let i = 0; i < 200; i++) {
		const value = { created: 1, data: [{ url: 'https://x/1.png', revised_prompt: 'p' }], extra: randomValue(random) };
		const text = JSON.stringify(value, null, random() < 0.5 ? 0 : 2);
		expect(parseInChunks(text, random)).toEqual(JSON.parse(text));
	}
});

test('b64_json arrives decoded, byte for byte, even with JSON escapes and line breaks in the Base64', () => {
	const random = seededRandom(5);
	for (let i = 0; i < 30; i++) {
		const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 200_000) + 1 }, () => Math.floor(random() * 256)));
		let b64 = bytes.toString('base64');
		if (i % 3 === 1) b64 = b64.replace(/(.{76})/g, '$1\n'); // MIME-style lines
		let json = JSON.stringify({ created: 2, data: [{ b64_json: b64, revised_prompt: '' }, { url: 'https://x/2.png' }] });
		if (i % 3 === 2) json = json.replace(/\//g, '\\/'); // PHP-style escaped slashes
		const parsed = parseInChunks(json, random) as { data: [{ b64_json: InlineImage; revised_prompt: string }, { url: string }] };
		const inline = parsed.data[0].b64_json;
		expect(inline.kind).toBe('inline-image');
		expect(Buffer.concat(inline.chunks).equals(bytes)).toBe(true);
		expect(inline).toMatchObject({ byteLength: bytes.length, leftover: 0 });
		expect(parsed.data[1].url).toBe('https://x/2.png');
	}
});

test('only data[i].b64_json is decoded; the same key elsewhere stays text', () => {
	const parsed = parseInChunks(JSON.stringify({ b64_json: 'QUJD', data: [{ meta: { b64_json: 'QUJD' } }] }), seededRandom(1)) as Record<string, unknown>;
	expect(parsed).toEqual({ b64_json: 'QUJD', data: [{ meta: { b64_json: 'QUJD' } }] });
});

test('a Base64 string cut mid-byte is reported, not silently shortened', () => {
	const parsed = parseInChunks('{"data":[{"b64_json":"QUJDR"}]}', seededRandom(2)) as { data: [{ b64_json: InlineImage }] };
	expect(parsed.data[0].b64_json).toMatchObject({ byteLength: 3, leftover: 1 });
});

test.each([
	['{"data":[', /ended before its JSON was complete/],
	['{"data":[1,]}', /unexpected "\]"/],
	['{"a" 1}', /expected ":"/],
	['{"a":tru}', /unknown literal "tru"/],
	['{"a":01}', /invalid number "01"/],
	['{"a":"\\x"}', /invalid escape/],
	['{} {}', /after the end of the JSON/],
	['<html>502</html>', /unexpected "<"/],
])('wrong JSON %s is refused', (text, message) => {
	expect(() => parseInChunks(text, seededRandom(3))).toThrow(message);
});

test('"__proto__" as a key stays data', () => {
	const parsed = parseInChunks('{"__proto__":{"polluted":true},"data":[]}', seededRandom(4)) as Record<string, unknown>;
	expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
	expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	expect(Object.keys(parsed)).toEqual(['__proto__', 'data']);
});

test('a plain string over 1 MiB is refused (a wrong answer cannot fill the memory)', async () => {
	const text = JSON.stringify({ data: [{ url: 'x'.repeat(1024 * 1024 + 1) }] });
	await expect(readAnswer(Readable.from([Buffer.from(text)]))).rejects.toThrow(/longer than 1048576 characters/);
});
