/**
 * Peak memory of a large `b64_json` gateway answer (`npx tsx --expose-gc bench/gatewayB64.ts [images] [MB]`,
 * default 4 images × 16 MB, i.e. a ~85 MB JSON answer): the gateway service reads it while it streams
 * in, decoding each `b64_json` as it arrives, and each image is then streamed out (here to a file, as
 * n8n's filesystem binary store does). For comparison, the obvious client on the same answer: read the
 * body as text, JSON.parse it, Buffer.from(b64, 'base64') each image.
 *
 * The answer is served from a file by a plain HTTP server in this process (its own memory is a few
 * 64 KiB read buffers), so what is measured is the client. Figures: peak RSS and peak
 * heapUsed + external over a baseline taken after a GC (bench/lib/memory.ts).
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';

import { modelCatalog } from '../nodes/AlibabaWan/catalog/modelCatalog';
import { gatewayService } from '../nodes/AlibabaWan/services/gateway';
import { measure } from './lib/memory';

const MB = 1_000_000;
const images = Number(process.argv[2] ?? 4);
const bytesPerImage = Number(process.argv[3] ?? 16) * MB;

/** Writes `{created, data:[{b64_json, revised_prompt}…]}` to a file, one image at a time (never whole in memory). */
function writeAnswer(path: string): void {
	const fd = openSync(path, 'w');
	writeSync(fd, '{"created":1767225600,"data":[');
	for (let i = 0; i < images; i++) {
		writeSync(fd, `${i ? ',' : ''}{"b64_json":"`);
		const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
		let left = bytesPerImage - png.length;
		writeSync(fd, png.toString('base64').slice(0, 8)); // 6 bytes = 8 chars; the rest continues the stream
		let carry = png.subarray(6);
		while (left > 0) {
			const n = Math.min(left, 3 * 65536);
			const chunk = Buffer.concat([carry, randomBytes(n)]);
			const whole = chunk.length - (chunk.length % 3);
			writeSync(fd, chunk.subarray(0, whole).toString('base64'));
			carry = chunk.subarray(whole);
			left -= n;
		}
		if (carry.length) writeSync(fd, carry.toString('base64'));
		writeSync(fd, '","revised_prompt":"a ceramic mug"}');
	}
	writeSync(fd, ']}');
	closeSync(fd);
}

async function main() {
	const dir = mkdtempSync(join(tmpdir(), 'wan-gw-bench-'));
	const answerPath = join(dir, 'answer.json');
	writeAnswer(answerPath);
	const answerBytes = statSync(answerPath).size;
	const server = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(answerBytes) });
			createReadStream(answerPath).pipe(res);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
	const model = modelCatalog['wan2.7-image-pro'];

	const service = await measure(async () => {
		const session = gatewayService.connect({ baseUrl: base, apiKey: 'bench-key', responseFormat: 'b64_json' });
		const request = session.buildRequest(model, 'generateImage', { prompt: 'a ceramic mug', n: images, size: '4K' }, [], {});
		const submitted = await session.submitTask(request, {});
		let stored = 0;
		for (const image of submitted.result!.images) {
			const downloaded = await session.downloadResult(image.url, {});
			const file = join(dir, `service-${image.index}.png`);
			await pipeline(downloaded.body, createWriteStream(file));
			stored += statSync(file).size;
		}
		return stored;
	});

	const naive = await measure(async () => {
		const res = await fetch(`${base}/images/generations`, { method: 'POST', body: '{}' });
		const json = JSON.parse(await res.text()) as { data: Array<{ b64_json: string }> };
		let stored = 0;
		for (const [index, entry] of json.data.entries()) {
			const bytes = Buffer.from(entry.b64_json, 'base64');
			const file = join(dir, `naive-${index}.png`);
			writeFileSync(file, bytes);
			stored += bytes.length;
		}
		return stored;
	});

	server.close();
	rmSync(dir, { recursive: true, force: true });
	const row = (label: string, run: typeof service) => ({
		client: label,
		storedMB: +(run.value / MB).toFixed(1),
		peakRssDeltaMB: +(((run.memory.kernelPeakRssDelta ?? run.memory.delta.rss) / MB)).toFixed(1),
		peakHeapPlusExternalDeltaMB: +((run.memory.delta.heapUsed + run.memory.delta.external) / MB).toFixed(1),
		seconds: +(run.wallMs / 1000).toFixed(2),
	});
	console.log(`answer: ${images} images × ${(bytesPerImage / MB).toFixed(0)} MB decoded = ${(answerBytes / MB).toFixed(1)} MB of JSON`);
	console.table([row('gateway service (streamed decode)', service), row('text + JSON.parse + Buffer.from', naive)]);
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
