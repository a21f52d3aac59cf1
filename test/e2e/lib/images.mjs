// Image sniffing + locating n8n binary data for assertions.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** MIME type from magic bytes, or null. */
export function sniffMime(buf) {
	if (!buf || buf.length < 12) return null;
	if (buf[0] === 0x89 && buf.toString('latin1', 1, 4) === 'PNG') return 'image/png';
	if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
	if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
	if (buf.toString('latin1', 0, 3) === 'GIF') return 'image/gif';
	if (buf.toString('latin1', 0, 2) === 'BM') return 'image/bmp';
	return null;
}

/** Width/height of a PNG (IHDR), else null. */
export function pngSize(buf) {
	if (sniffMime(buf) !== 'image/png' || buf.length < 24) return null;
	return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * Bytes of one IBinaryData from an execution's output, for the binary data modes the harness uses:
 * inline base64 (`default`), or `filesystem-v2:<relative path>` under the instance's storage folder.
 * Returns null when the bytes are not reachable from here (e.g. `database` mode).
 */
export function readBinary(bin, userFolder) {
	if (!bin) return null;
	if (bin.id && typeof bin.id === 'string') {
		const m = bin.id.match(/^filesystem(?:-v2)?:(.+)$/);
		if (m) {
			for (const root of [path.join(userFolder, '.n8n', 'storage'), path.join(userFolder, '.n8n', 'binaryData')]) {
				const f = path.join(root, m[1]);
				if (fs.existsSync(f)) return fs.readFileSync(f);
			}
			return null;
		}
		return null;
	}
	if (typeof bin.data === 'string' && bin.data.length > 0) return Buffer.from(bin.data, 'base64');
	return null;
}

/** Tiny valid RGBA PNG (solid colour) built without dependencies. */
export function makePng(width, height, rgba = [200, 40, 40, 255]) {
	const raw = Buffer.alloc((width * 4 + 1) * height);
	for (let y = 0; y < height; y++) {
		const row = y * (width * 4 + 1);
		raw[row] = 0;
		for (let x = 0; x < width; x++) raw.set(rgba, row + 1 + x * 4);
	}
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(td) >>> 0);
		return Buffer.concat([len, td, crc]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 6; // RGBA
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('IDAT', zlib.deflateSync(raw)),
		chunk('IEND', Buffer.alloc(0)),
	]);
}

let table = null;
function crc32(buf) {
	if (!table) {
		table = new Int32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
			table[n] = c;
		}
	}
	let c = -1;
	for (let i = 0; i < buf.length; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
	return c ^ -1;
}
