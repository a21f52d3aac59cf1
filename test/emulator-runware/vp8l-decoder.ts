/**
 * A small lossless-WEBP (VP8L) decoder for the tests, written from the WebP Lossless Bitstream
 * specification: simple and normal prefix codes (code-length codes with repeat symbols 16/17/18,
 * max_symbol), literal ARGB pixels. It refuses, rather than misreads, what the emulator's encoder never
 * writes: transforms, colour cache, meta prefix codes and backward references.
 */

class BitReader {
	private pos = 0;
	constructor(private readonly bytes: Buffer) {}

	read(n: number): number {
		let value = 0;
		for (let i = 0; i < n; i++, this.pos++) {
			const byte = this.bytes[this.pos >> 3];
			if (byte === undefined) throw new Error('VP8L: unexpected end of data');
			value |= ((byte >> (this.pos & 7)) & 1) << i;
		}
		return value >>> 0;
	}
}

interface PrefixCode {
	/** Only symbol, when the code has one (read with zero bits). */
	single?: number;
	/** (length << 16 | code) → symbol. */
	table: Map<number, number>;
}

function buildCode(lengths: number[]): PrefixCode {
	const used = lengths.flatMap((len, symbol) => (len > 0 ? [{ len, symbol }] : []));
	if (used.length === 0) throw new Error('VP8L: empty prefix code');
	if (used.length === 1) return { single: used[0].symbol, table: new Map() };
	used.sort((a, b) => a.len - b.len || a.symbol - b.symbol);
	const table = new Map<number, number>();
	let code = 0;
	let len = used[0].len;
	let kraft = 0;
	for (const entry of used) {
		code <<= entry.len - len;
		len = entry.len;
		table.set((len << 16) | code, entry.symbol);
		kraft += 2 ** -len;
		code++;
	}
	if (Math.abs(kraft - 1) > 1e-12) throw new Error('VP8L: incomplete prefix code');
	return { table };
}

function readSymbol(r: BitReader, code: PrefixCode): number {
	if (code.single !== undefined) return code.single;
	let value = 0;
	for (let len = 1; len <= 15; len++) {
		value = (value << 1) | r.read(1);
		const symbol = code.table.get((len << 16) | value);
		if (symbol !== undefined) return symbol;
	}
	throw new Error('VP8L: bad prefix code');
}

const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

function readPrefixCode(r: BitReader, alphabetSize: number): PrefixCode {
	const lengths = new Array<number>(alphabetSize).fill(0);
	if (r.read(1)) {
		const count = r.read(1) + 1;
		lengths[r.read(r.read(1) ? 8 : 1)] = 1;
		if (count === 2) lengths[r.read(8)] = 1;
		return buildCode(lengths);
	}
	const codeLengthLengths = new Array<number>(19).fill(0);
	const n = 4 + r.read(4);
	for (let i = 0; i < n; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]] = r.read(3);
	const codeLengthCode = buildCode(codeLengthLengths);
	let maxSymbol = alphabetSize;
	if (r.read(1)) maxSymbol = 2 + r.read(2 + 2 * r.read(3));
	let previous = 8;
	for (let i = 0; i < alphabetSize && maxSymbol-- > 0; ) {
		const symbol = readSymbol(r, codeLengthCode);
		if (symbol < 16) {
			lengths[i++] = symbol;
			if (symbol !== 0) previous = symbol;
			continue;
		}
		const [repeat, value] = symbol === 16 ? [3 + r.read(2), previous] : symbol === 17 ? [3 + r.read(3), 0] : [11 + r.read(7), 0];
		if (i + repeat > alphabetSize) throw new Error('VP8L: code lengths overflow');
		for (let k = 0; k < repeat; k++) lengths[i++] = value;
	}
	return buildCode(lengths);
}

/** Decodes a RIFF/WEBP file with a VP8L chunk into RGB pixels (alpha dropped). */
export function decodeVp8l(file: Buffer): { width: number; height: number; pixels: Buffer } {
	if (file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 16) !== 'WEBPVP8L') throw new Error('not a VP8L WEBP');
	if (file.readUInt32LE(4) !== file.length - 8) throw new Error('RIFF size does not match the file');
	const r = new BitReader(file.subarray(20, 20 + file.readUInt32LE(16)));
	if (r.read(8) !== 0x2f) throw new Error('VP8L: bad signature');
	const width = r.read(14) + 1;
	const height = r.read(14) + 1;
	r.read(1); // alpha hint
	if (r.read(3) !== 0) throw new Error('VP8L: unknown version');
	if (r.read(1)) throw new Error('VP8L: transforms are not supported by this test decoder');
	if (r.read(1)) throw new Error('VP8L: colour cache is not supported by this test decoder');
	if (r.read(1)) throw new Error('VP8L: meta prefix codes are not supported by this test decoder');
	const [green, red, blue, alpha] = [256 + 24, 256, 256, 256].map((size) => readPrefixCode(r, size));
	readPrefixCode(r, 40); // distance
	const pixels = Buffer.alloc(width * height * 3);
	for (let p = 0; p < width * height; p++) {
		const g = readSymbol(r, green);
		if (g >= 256) throw new Error('VP8L: backward references are not supported by this test decoder');
		pixels[p * 3 + 1] = g;
		pixels[p * 3] = readSymbol(r, red);
		pixels[p * 3 + 2] = readSymbol(r, blue);
		readSymbol(r, alpha);
	}
	return { width, height, pixels };
}
