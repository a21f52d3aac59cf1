/**
 * `npm run bench`: builds the node, then runs every benchmark against the built dist/ inside the real
 * n8n engine and the DashScope emulator, prints a compact table and writes bench/results.json.
 *
 *   npm run bench                      all benchmarks
 *   npm run bench -- fuse validate     only some (fuse | batch | validate | P1 | P1b | P2 | P5 | P6 | builtin)
 *   npm run bench -- --quick           short smoke run (CI): proves the pace pipeline and P5 run; no figures
 *   npm run bench -- --runs 3 P1 P2    each account-limit benchmark 3 times, the median run's line printed
 *   BENCH_VERBOSE=1 npm run bench      pass the children's output through
 *
 * Each benchmark runs in its own child process with a hard time limit; nothing waits unbounded.
 * See bench/README.md for what each one measures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

import { writeNoisyBmp, writeNoisyPng, writeSyntheticJpeg } from './lib/images';
import type { MemSummary } from './lib/memory';
import { BENCH_DIR, forkTs, type Child } from './lib/proc';
import { benchPace, fmtTarget, medianLines, type TargetLine } from './pace';

const MB = 1_000_000;
const MiB = 1024 * 1024;
const REGION = 'ap-southeast-1';

const fmtMB = (bytes: number | undefined, signed = false) =>
	bytes === undefined ? 'n/a' : `${signed && bytes >= 0 ? '+' : ''}${(bytes / MB).toFixed(1)} MB`;
const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function childFailed(child: Child, label: string, error: unknown): Error {
	return new Error(`${label}: ${String(error)}${child.output() ? `\n--- ${label} printed ---\n${child.output()}` : ''}`);
}

// ------------------------------------------------------------------------- emulator in its own process

interface EmulatorSummary {
	counters: Record<string, number>;
	requests: Array<{ kind: string; status: number; contentLength?: number; transferEncoding?: string; dataUriChars: number; images: number; taskId?: string; code?: string }>;
	tasks: Array<{ taskId: string; status: string; inputImages: Array<{ bytes: number; width: number; height: number; format: string }> }>;
	wire: { in: number; out: number; connections: number; firstInAt: number; lastInAt: number; lastOutAt: number };
	emulatorMemory: { rss: number; heapUsed: number };
}

async function startEmulatorProcess(timing: { pendingMs: number; runningMs: number }) {
	const child = forkTs('emulatorProcess.ts', [JSON.stringify(timing)], {
		// It holds a ~250 MB body as Buffer chunks, a string and parsed strings at once.
		execArgv: ['--max-old-space-size=8192', '--expose-gc'],
		timeoutMs: 10 * 60_000,
		label: 'emulator',
	});
	const ready = await child.next().catch((e) => Promise.reject(childFailed(child, 'emulator', e)));
	return { child, url: ready.url as string, keys: ready.keys as Record<string, string> };
}

// ------------------------------------------------------------------------------------------ 1. fuse

interface FuseRun {
	label: string;
	note?: string;
	run: number;
	images: number;
	imageBytes: number;
	inputBytes: number;
	status: string;
	error?: string;
	wallMs: number;
	/** Content-Length of the submit as received by the emulator. */
	uploadedBytes?: number;
	transferEncoding?: string;
	/** Every byte the emulator's socket received during the run (request line and headers included). */
	wireBytesIn: number;
	emulatorDecodedImages: Array<{ bytes: number; width: number; height: number; format: string }>;
	/** Node start → first request byte at the emulator (probe 9 images, build body, connect). */
	beforeFirstByteMs: number;
	/** First → last request byte received by the emulator. */
	uploadMs: number;
	uploadMBps?: number;
	/** Last request byte → answer sent: the emulator buffering, parsing and checking the body. */
	emulatorMs: number;
	memory: MemSummary;
	emulatorRssAfter: number;
}

interface FuseScenario {
	label: string;
	count: number;
	width: number;
	height: number;
	format: 'bmp' | 'png-alpha';
	repeats: number;
	note?: string;
}

const FUSE_SCENARIOS: FuseScenario[] = [
	{ label: 'fuse 9×2MB', count: 9, width: 836, height: 836, format: 'bmp', repeats: 2 }, // 2,096,742 B each
	{ label: 'fuse 9×10MB', count: 9, width: 1870, height: 1870, format: 'bmp', repeats: 2 }, // 10,494,494 B each
	{ label: 'fuse 9×20MB', count: 9, width: 2640, height: 2640, format: 'bmp', repeats: 2 }, // 20,908,854 B each (19.94 MiB)
	{
		// Not the streaming path: a PNG with alpha must be decoded and re-encoded, in memory, by design.
		label: 'fuse 2×19MB transparent PNG',
		count: 2,
		width: 2200,
		height: 2200,
		format: 'png-alpha',
		repeats: 1,
		note: 'flatten path (async decode + re-encode in memory, by design), not the streaming path',
	},
];

async function benchFuse(work: string): Promise<FuseRun[]> {
	const dir = join(work, 'fuse');
	mkdirSync(dir, { recursive: true });
	const make = (prefix: string, count: number, w: number, h: number, format: FuseScenario['format'] = 'bmp') =>
		Array.from({ length: count }, (_, i) => {
			const file = join(dir, `${prefix}-${i + 1}.${format === 'bmp' ? 'bmp' : 'png'}`);
			const size = format === 'bmp' ? writeNoisyBmp(file, w, h, i) : writeNoisyPng(file, w, h, true);
			if (size > 20 * MiB) throw new Error(`${file} is ${size} bytes, over Wan's 20 MiB`);
			return file;
		});
	const warmupFiles = make('warm', 9, 300, 300);
	const emu = await startEmulatorProcess({ pendingMs: 200, runningMs: 800 });
	const runs: FuseRun[] = [];
	try {
		for (const s of FUSE_SCENARIOS) {
			const files = make(`${s.width}`, s.count, s.width, s.height, s.format);
			const worker = forkTs(
				'workers/fuse.ts',
				[
					JSON.stringify({
						label: s.label,
						files,
						warmupFiles,
						baseUrl: `${emu.url}/${REGION}/api/v1`,
						apiKey: emu.keys[REGION],
						region: REGION,
						intervalMs: 10,
						repeats: s.repeats,
					}),
				],
				{ execArgv: ['--expose-gc'], timeoutMs: 3 * 60_000, label: s.label },
			);
			const next = () => worker.next().catch((e) => Promise.reject(childFailed(worker, s.label, e)));
			for (let run = 1; run <= s.repeats; run++) {
				const ready = await next();
				if (ready.phase !== 'ready') throw childFailed(worker, s.label, ready.error);
				await emu.child.call('reset');
				worker.send({ go: true });
				const r = await next();
				if (r.phase !== 'result') throw childFailed(worker, s.label, r.error);
				const summary = await emu.child.call<EmulatorSummary>('summary');
				const submit = summary.requests.find((q) => q.kind === 'submit');
				const { wire } = summary;
				const uploadMs = wire.lastInAt - wire.firstInAt;
				runs.push({
					label: s.label,
					note: s.note,
					run,
					images: files.length,
					imageBytes: (r.inputBytes as number) / files.length,
					inputBytes: r.inputBytes as number,
					status: `${r.status}${submit ? ` (HTTP ${submit.status}${submit.code ? ` ${submit.code}` : ''})` : ' (no submit seen)'}`,
					error: r.error as string | undefined,
					wallMs: r.wallMs as number,
					uploadedBytes: submit?.contentLength,
					transferEncoding: submit?.transferEncoding,
					wireBytesIn: wire.in,
					emulatorDecodedImages: summary.tasks[0]?.inputImages ?? [],
					beforeFirstByteMs: wire.firstInAt - (r.startEpochMs as number),
					uploadMs,
					uploadMBps: submit?.contentLength && uploadMs > 0 ? submit.contentLength / MB / (uploadMs / 1000) : undefined,
					emulatorMs: wire.lastOutAt - wire.lastInAt,
					memory: r.memory as MemSummary,
					emulatorRssAfter: summary.emulatorMemory.rss,
				});
			}
			await worker.exited;
			for (const f of files) rmSync(f, { force: true });
		}
	} finally {
		await emu.child.call('close').catch(() => undefined);
		emu.child.kill();
		await emu.child.exited;
	}
	return runs;
}

/** Per scenario: the worst (highest) peak of its runs. */
function worstFuse(runs: FuseRun[]): FuseRun[] {
	const by = new Map<string, FuseRun>();
	for (const r of runs) {
		const cur = by.get(r.label);
		if (!cur || r.memory.delta.rss > cur.memory.delta.rss) by.set(r.label, r);
	}
	return [...by.values()];
}

function fuseLines(runs: FuseRun[]): string[] {
	return worstFuse(runs).map((r) => {
		const m = r.memory;
		const range = (k: 'rss' | 'heapUsed' | 'external') => {
			const xs = runs.filter((x) => x.label === r.label).map((x) => x.memory.delta[k]);
			return xs.length > 1 ? `${fmtMB(Math.min(...xs), true)}…${fmtMB(Math.max(...xs), true)}` : fmtMB(xs[0], true);
		};
		return (
			`${r.label} (submit): peak RSS ${range('rss')} over baseline ${fmtMB(m.baseline.rss)} (kernel VmHWM ${fmtMB(m.kernelPeakRssDelta, true)}),` +
			` heap ${range('heapUsed')}, external ${range('external')};` +
			` uploaded ${fmtMB(r.uploadedBytes)} for ${fmtMB(r.inputBytes)} of images, ${fmtS(r.wallMs)}` +
			` (start→first byte ${fmtS(r.beforeFirstByteMs)}, upload ${fmtS(r.uploadMs)}${r.uploadMBps ? ` ≈ ${r.uploadMBps.toFixed(0)} MB/s` : ''}, emulator parsing ${fmtS(r.emulatorMs)}); longest event-loop stall ${m.maxGapMs} ms; ${r.status}` +
			(r.note ? ` — ${r.note}` : '')
		);
	});
}

// ------------------------------------------------------------------------------------------ 2. batch

interface BatchRow {
	label: string;
	concurrency: number;
	pollIntervalSeconds: number;
	outputFormat: string;
	items: number;
	status: string;
	error?: string;
	outputItems: number;
	wallMs: number;
	tasksPerMinute: number;
	tasksSucceeded: number;
	maxConcurrentServer: number;
	maxConcurrentNode: number;
	meanTaskMs: number;
	meanNoticeLagMs: number;
	pollsPerTask: number;
	counters: Record<string, number>;
}

const BATCH = {
	items: 20,
	pendingMs: 200,
	runningMs: 1500,
	scenarios: [
		{ label: 'batch 20, concurrency 1, poll 0.25 s, URLs', concurrency: 1, pollIntervalSeconds: 0.25, outputFormat: 'url' },
		{ label: 'batch 20, concurrency 5, poll 0.25 s, URLs', concurrency: 5, pollIntervalSeconds: 0.25, outputFormat: 'url' },
		{ label: 'batch 20, concurrency 5, poll auto, URLs', concurrency: 5, pollIntervalSeconds: 0, outputFormat: 'url' },
		{ label: 'batch 20, concurrency 5, poll 0.25 s, binary', concurrency: 5, pollIntervalSeconds: 0.25, outputFormat: 'binary' },
		{ label: 'batch 20, concurrency 10, poll 0.25 s, URLs', concurrency: 10, pollIntervalSeconds: 0.25, outputFormat: 'url' },
	],
};

async function benchBatch(work: string): Promise<{ imageBytes: number; rows: BatchRow[] }> {
	const imageFile = join(work, 'batch-input.png');
	const imageBytes = writeNoisyPng(imageFile, 600, 560);
	const worker = forkTs('workers/batch.ts', [JSON.stringify({ imageFile, ...BATCH })], { timeoutMs: 4 * 60_000, label: 'batch' });
	const r = await worker.next().catch((e) => Promise.reject(childFailed(worker, 'batch', e)));
	await worker.exited;
	if (!r.rows) throw childFailed(worker, 'batch', r.error);
	return { imageBytes, rows: r.rows as BatchRow[] };
}

function batchLines(rows: BatchRow[]): string[] {
	return rows.map(
		(r) =>
			`${r.label}: ${fmtS(r.wallMs)}, ${r.tasksPerMinute.toFixed(0)} tasks/min, ${r.tasksSucceeded}/${r.items} succeeded,` +
			` max concurrent tasks ${r.maxConcurrentServer} (emulator) / ${r.maxConcurrentNode} (node), 429s ${r.counters.throttled},` +
			` ${r.pollsPerTask.toFixed(1)} polls/task, notice lag ${r.meanNoticeLagMs.toFixed(0)} ms; ${r.status}${r.error ? ` ${r.error}` : ''}`,
	);
}

// --------------------------------------------------------------------------------------- 3. validate

interface DirectProbe {
	label: string;
	fileBytes: number;
	probe: { format: string; width: number; height: number };
	medianMs: number;
	minMs: number;
	maxMs: number;
	bytesReadMedian: number;
	fullReadBase64Ms: number;
}

interface EngineValidation {
	label: string;
	items: number;
	images: number;
	fileBytesPerImage: number;
	baselineRunMs: number;
	runMs: number;
	perImageMs: number;
	status: string;
	error?: string;
	requestsSent: number;
	streamsOpened: number;
	streamsLeftOpen: number;
	bytesReadTotal: number;
	bytesReadPerImage: number;
}

async function benchValidate(work: string): Promise<{ direct: DirectProbe[]; engine: EngineValidation[] }> {
	const dir = join(work, 'validate');
	mkdirSync(dir, { recursive: true });
	const jpeg = join(dir, 'photo-20MB.jpg');
	const png = join(dir, 'noise-20MB.png');
	const bmp = join(dir, 'noise-20MB.bmp');
	// 5000×4000 JPEG structure with 4 × 64 KiB APP2 (ICC-like) segments before its frame header.
	writeSyntheticJpeg(jpeg, 5000, 4000, 20_000_000, 4);
	writeNoisyPng(png, 2580, 2580);
	writeNoisyBmp(bmp, 2640, 2640);
	const files = [
		{ label: 'JPEG 20MB (256 KiB of APP segments before SOF)', path: jpeg, mimeType: 'image/jpeg' },
		{ label: 'PNG 20MB', path: png, mimeType: 'image/png' },
		{ label: 'BMP 20MB', path: bmp, mimeType: 'image/bmp' },
	];
	const fuseFiles = [jpeg, png, bmp, jpeg, png, bmp, jpeg, png, bmp];
	const worker = forkTs('workers/validate.ts', [JSON.stringify({ files, repeats: 20, itemsPerRun: 5, fuseFiles })], {
		timeoutMs: 3 * 60_000,
		label: 'validate',
	});
	const r = await worker.next().catch((e) => Promise.reject(childFailed(worker, 'validate', e)));
	await worker.exited;
	if (!r.direct) throw childFailed(worker, 'validate', r.error);
	return { direct: r.direct as DirectProbe[], engine: r.engine as EngineValidation[] };
}

function validateLines(v: { direct: DirectProbe[]; engine: EngineValidation[] }): string[] {
	return [
		...v.direct.map(
			(d) =>
				`probe ${d.label}: ${d.medianMs.toFixed(2)} ms median (${d.minMs.toFixed(2)}–${d.maxMs.toFixed(2)}), read ${(d.bytesReadMedian / 1024).toFixed(0)} KiB` +
				` of ${fmtMB(d.fileBytes)} → ${d.probe.format} ${d.probe.width}×${d.probe.height}; full read+Base64 would be ${d.fullReadBase64Ms.toFixed(0)} ms`,
		),
		...v.engine.map(
			(e) =>
				`prepare in engine, ${e.label}: ${e.perImageMs.toFixed(1)} ms/image over ${e.images} images, read ${(e.bytesReadPerImage / 1024).toFixed(0)} KiB/image` +
				` of ${fmtMB(e.fileBytesPerImage)}, ${e.requestsSent} requests sent, ${e.streamsLeftOpen}/${e.streamsOpened} streams left open`,
		),
	];
}

// ------------------------------------------------------------------------------- 5. built-in node

/**
 * bench/builtin.mjs runs in plain Node (it drives the e2e harness's real n8n 2.41.1 on Node 24) and
 * prints its results as JSON on its last line.
 */
interface BuiltinRow {
	who: string;
	policy: string;
	ok: boolean;
	firstToLastRequestMs: number;
	medianLagMs: number;
}

/** One line per emulator policy: the built-in node's work time against ours (ratio = built-in ÷ ours). */
function builtinTargets(rows: BuiltinRow[]): TargetLine[] {
	return ['queue', 'reject'].flatMap((policy) => {
		const ours = rows.find((row) => row.who === 'ours' && row.policy === policy);
		const builtin = rows.find((row) => row.who === 'built-in' && row.policy === policy);
		if (!ours || !builtin) return [];
		const factor = builtin.firstToLastRequestMs / ours.firstToLastRequestMs;
		return [
			{
				name: `built-in node beside ours, ${policy === 'queue' ? 'queue' : '429'}`,
				target: 'ours faster (built-in ÷ ours > 1)',
				figure: `built-in ${fmtS(builtin.firstToLastRequestMs)} (lag ${fmtS(builtin.medianLagMs)}), ours ${fmtS(ours.firstToLastRequestMs)} (lag ${fmtS(ours.medianLagMs)})`,
				ratio: factor,
				value: factor,
				pass: factor > 1 && ours.ok && builtin.ok,
			},
		];
	});
}

async function benchBuiltin(work: string): Promise<{ results: unknown; lines: string[] }> {
	const { spawn } = await import('node:child_process');
	const dir = join(work, 'builtin');
	mkdirSync(dir, { recursive: true });
	const child = spawn(process.execPath, [join(BENCH_DIR, 'builtin.mjs'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
	let out = '';
	let shown = 0;
	child.stdout.on('data', (c: Buffer) => {
		out += c.toString('utf8');
		// Its [builtin] progress lines pass through as they complete (the run takes ~12 min); the JSON line does not.
		const end = out.lastIndexOf('\n') + 1;
		for (const line of out.slice(shown, end).split('\n')) {
			if (line && (line.startsWith('[builtin]') || process.env.BENCH_VERBOSE === '1')) process.stdout.write(`  ${line}\n`);
		}
		shown = Math.max(shown, end);
	});
	const limit = setTimeout(() => child.kill('SIGTERM'), 40 * 60_000);
	const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
	clearTimeout(limit);
	const last = out.trim().split('\n').pop() ?? '';
	if (code !== 0 || !last.startsWith('{')) throw new Error(`bench/builtin.mjs failed (exit ${code}):\n${out.slice(-4000)}`);
	const r = JSON.parse(last) as { results: unknown; lines: string[] };
	return r;
}

// ------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
	if (!process.env.N8N_USER_FOLDER) process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'wan-bench-n8n-'));
	const known = ['fuse', 'batch', 'validate', 'P1', 'P1b', 'P2', 'P5', 'P6', 'builtin'];
	const quick = process.argv.includes('--quick');
	const runsAt = process.argv.indexOf('--runs');
	const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 1;
	if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1, e.g. --runs 3');
	const asked = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--runs');
	const unknown = asked.filter((a) => !known.includes(a));
	if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
	// --quick: only the short smoke run of the pace pipeline and P5 (CI proves the bench still runs).
	const want = (name: string) => (quick ? name === 'P5' : asked.length === 0 || asked.includes(name));
	const work = mkdtempSync(join(tmpdir(), 'wan-bench-'));
	const started = Date.now();
	const results: Record<string, unknown> = {
		date: new Date().toISOString(),
		command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
		machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, platform: process.platform },
		// Other work on the machine skews timings (not memory): 1-minute load average at start and end.
		loadAverage1m: { start: round(loadavg()[0], 2), end: 0 },
	};
	const sections: Array<[string, string[]]> = [];
	const step = (name: string) => process.stdout.write(`[bench] ${name}… (${round((Date.now() - started) / 1000)} s)\n`);
	try {
		if (want('fuse')) {
			step('fuse: 9 images × 2 / 10 / 20 MB, Submit Only, emulator in its own process');
			const runs = await benchFuse(work);
			results.fuse = { scenarios: FUSE_SCENARIOS, runs };
			sections.push(['1. Fuse Images, memory of the node process (worst of runs; ranges over runs)', fuseLines(runs)]);
		}
		if (want('batch')) {
			step(`batch: ${BATCH.items} × Edit Image, emulator ${BATCH.pendingMs}+${BATCH.runningMs} ms per task`);
			const batch = await benchBatch(work);
			results.batch = { ...BATCH, ...batch };
			sections.push([`2. Batch throughput (${BATCH.items} items, ${fmtMB(batch.imageBytes)} PNG each, wan2.7-image 1K, task ${BATCH.pendingMs}+${BATCH.runningMs} ms)`, batchLines(batch.rows)]);
		}
		if (want('validate')) {
			step('validate: probe + validate + body build of 20 MB inputs, nothing sent');
			const validate = await benchValidate(work);
			results.validate = validate;
			sections.push(['3. Local validation cost (nothing sent)', validateLines(validate)]);
		}
		const paceNames = ['P1', 'P1b', 'P2', 'P5', 'P6'];
		const targetRuns: TargetLine[][] = [];
		const notes: string[] = [];
		if (quick || paceNames.some(want)) {
			const imageFile = join(work, 'pace-input.png');
			writeNoisyPng(imageFile, 320, 320);
			const paceRuns: Array<Record<string, unknown>> = [];
			for (let run = 1; run <= (quick ? 1 : runs); run++) {
				step(`account limits${runs > 1 ? `, run ${run} of ${runs}` : ''}: ${quick ? 'quick smoke run' : paceNames.filter(want).join(', ')} (built node in the engine, emulator process)`);
				const pace = await benchPace({ imageFile, quick, want });
				paceRuns.push(pace.results);
				targetRuns[run - 1] = [...(targetRuns[run - 1] ?? []), ...pace.targets];
				notes.push(...pace.notes.map((note) => (runs > 1 ? `run ${run}: ${note}` : note)));
			}
			if (runs > 1) results.paceRuns = paceRuns;
			else Object.assign(results, paceRuns[0]);
		}
		if (want('builtin')) {
			const builtinRuns: unknown[] = [];
			for (let run = 1; run <= runs; run++) {
				step(`builtin${runs > 1 ? `, run ${run} of ${runs}` : ''}: the P1 workload through n8n 2.41.1's Alibaba Cloud node and ours in real n8n, queue and 429`);
				const builtin = await benchBuiltin(work);
				builtinRuns.push(builtin.results);
				targetRuns[run - 1] = [...(targetRuns[run - 1] ?? []), ...builtinTargets(builtin.results as BuiltinRow[])];
				notes.push(...builtin.lines.map((line) => (runs > 1 ? `run ${run}: ${line}` : line)));
			}
			results.builtin = runs > 1 ? builtinRuns : builtinRuns[0];
		}
		if (targetRuns.length) {
			const title = `4. Account limits and the built-in node (issue 12)${runs > 1 ? `, median of ${runs} runs` : ''}: name, target, figure, ratio (figure ÷ target; ≤ 1 holds), PASS/MISS`;
			results.targets = medianLines(targetRuns);
			sections.push([title, [...(results.targets as TargetLine[]).map(fmtTarget), ...notes]]);
		}
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
	results.totalSeconds = round((Date.now() - started) / 1000);
	const load = results.loadAverage1m as { start: number; end: number };
	load.end = round(loadavg()[0], 2);
	writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
	const text = sections.map(([title, lines]) => `${title}\n${lines.map((l) => `  ${l}`).join('\n')}`).join('\n\n');
	process.stdout.write(
		`\n${text}\n\nbench/results.json written; benchmarks took ${results.totalSeconds} s` +
			` (1-min load average ${load.start} → ${load.end} on ${cpus().length} CPUs)\n`,
	);
}

main().catch((err) => {
	process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(1);
});
