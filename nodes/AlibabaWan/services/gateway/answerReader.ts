/**
 * Reads a gateway's answer (`{created, data:[{url | b64_json, revised_prompt}]}`) as it streams in.
 * Every `data[i].b64_json` string is Base64-decoded chunk by chunk while it arrives, so a 4-image answer
 * of 4K PNGs is held once, decoded, instead of as the raw body, its text, the parsed string and the
 * decoded bytes at once (GATEWAY_API.md §6). Everything else is parsed into plain JSON values, with caps
 * so a wrong answer cannot fill the memory either.
 */
import { StringDecoder } from 'node:string_decoder';

/** An image the gateway sent inside its answer: decoded bytes in order, never joined into one buffer. */
export interface InlineImage {
	readonly kind: 'inline-image';
	readonly chunks: Buffer[];
	readonly byteLength: number;
	/** Base64 characters that could not be decoded (a truncated or corrupt string), 0 when clean. */
	readonly leftover: number;
}

export function isInlineImage(value: unknown): value is InlineImage {
	return typeof value === 'object' && value !== null && (value as InlineImage).kind === 'inline-image';
}

/** Longest plain string kept (a revised prompt is ≤ 5000 characters; error texts are short). */
const MAX_STRING = 1024 * 1024;
/** Most values kept outside inline images (keys, numbers, strings): a wrong answer stops here. */
const MAX_VALUES = 100_000;
/** Decode Base64 in blocks of this many characters (a multiple of 4: ~48 KiB of bytes each). */
const BASE64_BLOCK = 64 * 1024;

/** Collects one Base64 string: decodes whole 4-character groups as they arrive, keeps the rest. */
class Base64Sink {
	private pending = '';
	private readonly chunks: Buffer[] = [];
	private bytes = 0;

	write(text: string): void {
		// JSON may escape "/" or wrap lines: only Base64 characters count (standard and URL-safe).
		this.pending += text.replace(/[^A-Za-z0-9+/\-_]/g, '');
		if (this.pending.length < BASE64_BLOCK) return;
		const whole = this.pending.length - (this.pending.length % 4);
		this.push(this.pending.slice(0, whole));
		this.pending = this.pending.slice(whole);
	}

	end(): InlineImage {
		// 2 or 3 characters are a valid unpadded tail; 1 cannot be a whole byte.
		const tail = this.pending.length % 4 === 1 ? this.pending.slice(0, -1) : this.pending;
		if (tail) this.push(tail);
		return { kind: 'inline-image', chunks: this.chunks, byteLength: this.bytes, leftover: this.pending.length - tail.length };
	}

	private push(text: string): void {
		const decoded = Buffer.from(text, 'base64');
		this.chunks.push(decoded);
		this.bytes += decoded.length;
	}
}

type Container = { kind: 'object'; value: Record<string, unknown>; key?: string } | { kind: 'array'; value: unknown[] };

type State = 'value' | 'objectStart' | 'key' | 'colon' | 'arrayStart' | 'after' | 'string' | 'escape' | 'unicode' | 'number' | 'literal' | 'done';

export class AnswerFormatError extends Error {}

/**
 * A streaming JSON parser that builds the value, except for strings the `inlineAt` predicate picks
 * (by their path), which go to a Base64 sink instead. Feed it with `write`, then `end()` returns the value.
 */
export class StreamingAnswerParser {
	private readonly decoder = new StringDecoder('utf8');
	private readonly stack: Container[] = [];
	private state: State = 'value';
	private root: unknown;
	private token = '';
	private stringParts: string[] = [];
	private stringLength = 0;
	private sink?: Base64Sink;
	private stringIsKey = false;
	private unicode = '';
	private values = 0;

	constructor(private readonly inlineAt: (path: ReadonlyArray<string | number>) => boolean) {}

	write(chunk: Uint8Array): void {
		this.feed(this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
	}

	end(): unknown {
		this.feed(this.decoder.end());
		if (this.state === 'number' || this.state === 'literal') this.finishScalar();
		if (this.state !== 'done') throw new AnswerFormatError('the answer ended before its JSON was complete');
		return this.root;
	}

	private feed(text: string): void {
		let i = 0;
		while (i < text.length) {
			const state = this.state;
			if (state === 'string') {
				// Copy everything up to the next quote or backslash at once.
				let j = i;
				while (j < text.length) {
					const c = text.charCodeAt(j);
					if (c === 0x22 || c === 0x5c) break;
					j++;
				}
				if (j > i) this.stringText(text.slice(i, j));
				if (j === text.length) return;
				this.state = text.charCodeAt(j) === 0x5c ? 'escape' : 'string';
				if (text.charCodeAt(j) === 0x22) this.finishString();
				i = j + 1;
				continue;
			}
			const ch = text[i];
			if (state === 'escape') {
				const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
				if (ch === 'u') {
					this.unicode = '';
					this.state = 'unicode';
				} else if (ch in simple) {
					this.stringText(simple[ch]);
					this.state = 'string';
				} else {
					throw new AnswerFormatError(`invalid escape "\\${ch}" in a string`);
				}
				i++;
				continue;
			}
			if (state === 'unicode') {
				this.unicode += ch;
				if (!/^[0-9a-fA-F]*$/.test(this.unicode)) throw new AnswerFormatError('invalid \\u escape in a string');
				if (this.unicode.length === 4) {
					this.stringText(String.fromCharCode(parseInt(this.unicode, 16)));
					this.state = 'string';
				}
				i++;
				continue;
			}
			if (state === 'number' || state === 'literal') {
				if (/[0-9a-zA-Z+\-.]/.test(ch)) {
					this.token += ch;
					if (this.token.length > 64) throw new AnswerFormatError('a number or literal is too long');
					i++;
					continue;
				}
				this.finishScalar();
				continue; // the same character again, in the new state
			}
			if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') {
				i++;
				continue;
			}
			this.structural(ch);
			i++;
		}
	}

	private structural(ch: string): void {
		switch (this.state) {
			case 'value':
			case 'arrayStart':
				if (this.state === 'arrayStart' && ch === ']') return this.close('array');
				return this.startValue(ch);
			case 'objectStart':
				if (ch === '}') return this.close('object');
			// falls through: a key
			case 'key':
				if (ch !== '"') throw new AnswerFormatError(`expected a key, found "${ch}"`);
				this.startString(true);
				return;
			case 'colon':
				if (ch !== ':') throw new AnswerFormatError(`expected ":", found "${ch}"`);
				this.state = 'value';
				return;
			case 'after': {
				const top = this.stack[this.stack.length - 1];
				if (ch === ',' && top) {
					this.state = top.kind === 'object' ? 'key' : 'value';
					return;
				}
				if (ch === '}' && top?.kind === 'object') return this.close('object');
				if (ch === ']' && top?.kind === 'array') return this.close('array');
				throw new AnswerFormatError(`unexpected "${ch}"`);
			}
			case 'done':
				throw new AnswerFormatError(`unexpected "${ch}" after the end of the JSON`);
			default:
				throw new AnswerFormatError(`unexpected "${ch}"`);
		}
	}

	private startValue(ch: string): void {
		if (ch === '{') {
			this.stack.push({ kind: 'object', value: {} });
			this.state = 'objectStart';
		} else if (ch === '[') {
			this.stack.push({ kind: 'array', value: [] });
			this.state = 'arrayStart';
		} else if (ch === '"') {
			this.startString(false);
		} else if (/[-0-9]/.test(ch)) {
			this.token = ch;
			this.state = 'number';
		} else if (/[tfn]/.test(ch)) {
			this.token = ch;
			this.state = 'literal';
		} else {
			throw new AnswerFormatError(`unexpected "${ch}" where a value belongs`);
		}
	}

	private path(): Array<string | number> {
		return this.stack.map((container) => (container.kind === 'object' ? (container.key ?? '') : container.value.length));
	}

	private startString(isKey: boolean): void {
		this.stringIsKey = isKey;
		this.stringParts = [];
		this.stringLength = 0;
		this.sink = !isKey && this.inlineAt(this.path()) ? new Base64Sink() : undefined;
		this.state = 'string';
	}

	private stringText(text: string): void {
		if (this.sink) return this.sink.write(text);
		this.stringLength += text.length;
		if (this.stringLength > MAX_STRING) throw new AnswerFormatError(`a string in the answer is longer than ${MAX_STRING} characters`);
		this.stringParts.push(text);
	}

	private finishString(): void {
		if (this.stringIsKey) {
			const top = this.stack[this.stack.length - 1] as Extract<Container, { kind: 'object' }>;
			top.key = this.stringParts.join('');
			this.state = 'colon';
			this.count();
			return;
		}
		const value = this.sink ? this.sink.end() : this.stringParts.join('');
		this.sink = undefined;
		this.stringParts = [];
		this.emit(value);
	}

	private finishScalar(): void {
		const token = this.token;
		this.token = '';
		let value: unknown;
		if (this.state === 'literal') {
			const literals: Record<string, unknown> = { true: true, false: false, null: null };
			if (!(token in literals)) throw new AnswerFormatError(`unknown literal "${token}"`);
			value = literals[token];
		} else {
			if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(token)) throw new AnswerFormatError(`invalid number "${token}"`);
			value = Number(token);
		}
		this.emit(value);
	}

	private close(kind: Container['kind']): void {
		const container = this.stack.pop()!;
		if (container.kind !== kind) throw new AnswerFormatError('mismatched brackets');
		this.emit(container.value);
	}

	private emit(value: unknown): void {
		this.count();
		const top = this.stack[this.stack.length - 1];
		if (!top) {
			this.root = value;
			this.state = 'done';
			return;
		}
		if (top.kind === 'array') top.value.push(value);
		// "__proto__" as a key must stay data, not change the object's prototype.
		else Object.defineProperty(top.value, top.key ?? '', { value, enumerable: true, writable: true, configurable: true });
		this.state = 'after';
	}

	private count(): void {
		if (++this.values > MAX_VALUES) throw new AnswerFormatError(`the answer holds more than ${MAX_VALUES} values`);
	}
}

/** Where a gateway puts inline images: `data[i].b64_json`. */
export const isB64JsonPath = (path: ReadonlyArray<string | number>): boolean =>
	path.length === 3 && path[0] === 'data' && typeof path[1] === 'number' && path[2] === 'b64_json';

/** Reads a whole answer body; `b64_json` strings arrive as InlineImages. */
export async function readAnswer(body: AsyncIterable<Uint8Array | string>): Promise<unknown> {
	const parser = new StreamingAnswerParser(isB64JsonPath);
	for await (const chunk of body) parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
	return parser.end();
}
