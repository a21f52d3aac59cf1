/**
 * Benchmark 3 worker: the cost of preparing a 20 MB input locally (probe + validate + build the body)
 * when nothing is sent.
 *
 * A. probeImage (the node's source, nodes/AlibabaWan/images/probeImage.ts) through streamReader on a
 *    20 MB file opened as a file stream, repeated; bytes actually read from disk (ReadStream.bytesRead)
 *    next to a full read + Base64 of the same file for scale.
 * B. The built node in the engine: K items whose images are prepared, plus one last item whose custom
 *    size is out of range, so the run fails during preparation and sends nothing (checked on the
 *    emulator). (T(K good + 1 bad) − T(1 bad)) / images = preparation cost per image; bytes read from
 *    the filesystem binary store are counted on every stream the node opens.
 *
 * argv: JSON { files: { label, path, mimeType }[], repeats, itemsPerRun, fuseFiles: string[] }
 */
import { createReadStream, readFileSync, statSync, type ReadStream } from 'node:fs';
import { basename } from 'node:path';

import { startEmulator, EMULATOR_KEYS } from '../../test/emulator';
import { probeImage, streamReader } from '../../nodes/AlibabaWan/images/probeImage';
import { loadEngine, runWorker, sendToParent } from '../lib/worker';

interface Args {
	files: Array<{ label: string; path: string; mimeType: string }>;
	repeats: number;
	itemsPerRun: number;
	fuseFiles: string[];
}

const REGION = 'ap-southeast-1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function directProbe(file: { label: string; path: string }, repeats: number) {
	const size = statSync(file.path).size;
	const times: number[] = [];
	const bytesRead: number[] = [];
	let probe;
	for (let i = 0; i < repeats + 1; i++) {
		const streams: ReadStream[] = [];
		const open = () => {
			const s = createReadStream(file.path);
			streams.push(s);
			return s;
		};
		const t0 = performance.now();
		probe = await probeImage(streamReader(open, size));
		const ms = performance.now() - t0;
		// Let the destroyed streams report their final counters.
		await Promise.all(streams.map((s) => (s.closed ? undefined : new Promise<void>((r) => s.once('close', () => r())))));
		if (i === 0) continue; // cold (first open, JIT)
		times.push(ms);
		bytesRead.push(streams.reduce((sum, s) => sum + s.bytesRead, 0));
	}
	// For scale: what buffering the file and its Base64 costs.
	const t0 = performance.now();
	const buf = readFileSync(file.path);
	const b64 = buf.toString('base64');
	const fullReadBase64Ms = performance.now() - t0;
	return {
		label: file.label,
		fileBytes: size,
		probe,
		medianMs: median(times),
		minMs: Math.min(...times),
		maxMs: Math.max(...times),
		bytesReadMedian: median(bytesRead),
		fullReadBase64Ms,
		base64Chars: b64.length,
	};
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as Args;
	if (!process.env.N8N_USER_FOLDER) throw new Error('N8N_USER_FOLDER must be set before n8n-core loads');

	const direct: Array<Awaited<ReturnType<typeof directProbe>>> = [];
	for (const file of args.files) direct.push(await directProbe(file, args.repeats));

	const { store, runNode } = await loadEngine();
	const emu = await startEmulator({});
	// Count what the node reads from the binary store: every stream it opens, and its bytesRead.
	const opened: ReadStream[] = [];
	const service = store.service as unknown as { getAsStream: (id: string, chunk?: number) => Promise<ReadStream> };
	const original = service.getAsStream.bind(service);
	service.getAsStream = async (id, chunk) => {
		const s = await original(id, chunk);
		opened.push(s);
		return s;
	};
	const credentials = { apiKey: EMULATOR_KEYS[REGION], region: REGION, baseUrl: emu.baseUrl(REGION) };
	const put = (path: string, mimeType: string) =>
		store.service.store({ type: 'execution', workflowId: 'wf1', executionId: 'e1' }, createReadStream(path), {
			data: '',
			mimeType,
			fileName: basename(path),
		} as never);

	interface Case {
		label: string;
		imagesPerItem: number;
		fileBytesPerImage: number;
		parameters: Record<string, unknown>;
		binaryFor: () => Promise<Record<string, unknown>>;
	}
	const editParams = {
		operation: 'editImage',
		model: 'wan2.7-image',
		prompt: 'Make it blue',
		inputType: 'binary',
		binaryPropertyName: 'data',
		size: 'custom',
		customSize: '={{ $json.customSize }}',
	};
	const cases: Case[] = args.files.map((f) => ({
		label: `edit ${f.label}`,
		imagesPerItem: 1,
		fileBytesPerImage: statSync(f.path).size,
		parameters: editParams,
		binaryFor: async () => ({ data: await put(f.path, f.mimeType) }),
	}));
	cases.push({
		label: `fuse ${args.fuseFiles.length}×20MB JPEG/PNG/BMP`,
		imagesPerItem: args.fuseFiles.length,
		fileBytesPerImage: args.fuseFiles.reduce((sum, f) => sum + statSync(f).size, 0) / args.fuseFiles.length,
		parameters: { ...editParams, operation: 'fuseImages', model: 'wan2.7-image-pro', imagesFrom: 'allBinary' },
		binaryFor: async () => {
			const binary: Record<string, unknown> = {};
			for (const [i, f] of args.fuseFiles.entries()) binary[i ? `data_${i}` : 'data'] = await put(f, 'application/octet-stream');
			return binary;
		},
	});

	const bad = { json: { customSize: '10*10' } }; // 100 px²: rejected locally, before its images
	const engine: Array<Record<string, unknown>> = [];
	for (const c of cases) {
		const good = [];
		for (let i = 0; i < args.itemsPerRun; i++) good.push({ json: { customSize: '1024*1024' }, binary: await c.binaryFor() });
		const run = async (items: unknown[]) => {
			emu.reset();
			opened.length = 0;
			const t0 = performance.now();
			const result = await runNode({ parameters: c.parameters as never, credentials, items: items as never });
			const ms = performance.now() - t0;
			await Promise.all(opened.map((s) => (s.closed ? undefined : new Promise<void>((r) => s.once('close', () => r())))));
			return {
				ms,
				status: result.status,
				error: result.error?.message,
				streamsOpened: opened.length,
				streamsLeftOpen: opened.filter((s) => !s.closed).length,
				bytesRead: opened.reduce((sum, s) => sum + s.bytesRead, 0),
				requestsSent: emu.requests().length,
			};
		};
		await run([...good, bad]); // warm-up
		const baseRuns = [];
		const fullRuns = [];
		for (let r = 0; r < 3; r++) {
			baseRuns.push(await run([bad]));
			fullRuns.push(await run([...good, bad]));
		}
		const base = median(baseRuns.map((x) => x.ms));
		const full = fullRuns.sort((a, b) => a.ms - b.ms)[1];
		const images = args.itemsPerRun * c.imagesPerItem;
		engine.push({
			label: c.label,
			items: args.itemsPerRun,
			images,
			fileBytesPerImage: c.fileBytesPerImage,
			baselineRunMs: base,
			runMs: full.ms,
			perImageMs: (full.ms - base) / images,
			status: full.status,
			error: full.error,
			requestsSent: full.requestsSent,
			streamsOpened: full.streamsOpened,
			streamsLeftOpen: full.streamsLeftOpen,
			bytesReadTotal: full.bytesRead,
			bytesReadPerImage: full.bytesRead / images,
		});
	}
	await emu.close();
	store.cleanup();
	await sendToParent({ direct, engine });
}

runWorker(main);
