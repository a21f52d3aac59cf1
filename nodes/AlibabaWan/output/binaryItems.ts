/**
 * Task results → n8n items: every generated image (not only the first), downloaded as streamed
 * binary data with the right MIME type and file name, or as URLs; failed images reported per image.
 */
import type { IBinaryData, IBinaryKeyData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { pipeline, Transform, type Readable } from 'node:stream';

import { bufferReader, probeImage } from '../images/probeImage';
import type { FailedImage, ResultImage, TaskResult } from '../tasks/taskResults';
import type { CallOptions, DownloadedResult } from '../transport/types';

export type OutputFormat = 'binary' | 'url';
export type OutputItems = 'perImage' | 'perTask';

export interface OutputSettings {
	format: OutputFormat;
	items: OutputItems;
	/** Tokens: {taskId} {index} {item} {model} {ext} (the older {{index}} form too). */
	fileNameTemplate: string;
	/** `data` → `data`, `data_1`, `data_2`… when all images share one item. */
	binaryPropertyName: string;
}

/** What the node knows about the task beyond the response itself. */
export interface TaskContext {
	operation: string;
	model?: string;
	/** Where the task ran, when the service has such a notion (DashScope: the region ID). */
	region?: string;
	prompt?: string;
	seed?: number;
	requestedSize?: string;
	/** Images the task owes when `n` is exact (see parseTaskResult). */
	requestedImages?: number;
	submittedAt?: string;
	waitedMs?: number;
}

/** Result downloads in flight per task. */
const DOWNLOAD_CONCURRENCY = 3;

/**
 * Tries per image when the service keeps nothing to collect later (its images exist only in this run),
 * and the pause before each retry (times the try number): a passing fault need not lose a billed image.
 */
const UNCOLLECTABLE_ATTEMPTS = 3;
const UNCOLLECTABLE_RETRY_DELAY_MS = 250;

/** `Promise.all(items.map(fn))` with at most `limit` calls in flight; results in input order. */
async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await fn(items[index], index);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}

export const defaultFileNameTemplate = '{taskId}-{index}.{ext}';

const extensions: Record<string, string> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/bmp': 'bmp',
	'image/gif': 'gif',
};

/** How result images are fetched: the service's download call, under the execution's cancel signal. */
export interface ResultFetcher {
	download(url: string, options: CallOptions): Promise<DownloadedResult>;
	signal?: AbortSignal;
	/**
	 * False when the service keeps no task to collect again ("Wait for Task" cannot help): each image is
	 * then tried a few times, and one that still fails becomes a failed image (with its URL) instead of
	 * failing the item, so the images already stored are kept.
	 */
	collectable?: boolean;
	/** Told which images could not be stored (not collectable only), before the items are returned. */
	onImagesLost?(lost: FailedImage[]): void;
}

/** One stored image, or (only when the fetcher is not collectable) why it could not be stored. */
type StoredImage = { binary: IBinaryData; size?: string } | { failed: FailedImage };

export async function resultToItems(
	ctx: IExecuteFunctions,
	answer: TaskResult,
	context: TaskContext,
	settings: OutputSettings,
	itemIndex: number,
	fetcher: ResultFetcher,
): Promise<INodeExecutionData[]> {
	// Inline images have no URL to output: they are stored whatever the Output setting.
	const wanted = answer.images.map((image) => settings.format === 'binary' || image.inline === true);
	// A set of 12 images is 12 downloads: run a few at once, keep their order.
	const downloaded = await mapConcurrently(answer.images, DOWNLOAD_CONCURRENCY, async (image, position): Promise<StoredImage | undefined> => {
		if (!wanted[position]) return undefined;
		const fileName = renderFileName(settings.fileNameTemplate, answer, context, image.index, itemIndex, 'image/png');
		if (fetcher.collectable !== false) return await downloadImage(ctx, image, fileName, answer, fetcher);
		return await downloadOrReport(ctx, image, fileName, answer, fetcher);
	});
	const lost = downloaded.flatMap((entry) => (entry && 'failed' in entry ? [entry.failed] : []));
	if (lost.length && lost.length === answer.images.length) throw nothingStored(answer, lost);
	// Images that could not be stored are reported among the failed ones, in image order.
	const result: TaskResult = lost.length
		? {
				...answer,
				images: answer.images.filter((_, position) => !(downloaded[position] && 'failed' in downloaded[position])),
				failedImages: [...answer.failedImages, ...lost].sort((a, b) => a.index - b.index),
			}
		: answer;
	if (lost.length) fetcher.onImagesLost?.(lost);
	const base = taskJson(result, context);
	const pairedItem = { item: itemIndex };

	// One stored file per image, in image order (with URL output, only the images sent inline).
	const binaries: Array<IBinaryData | undefined> = [];
	const imageSizes: Array<string | undefined> = [];
	for (const entry of downloaded) {
		if (entry && 'failed' in entry) continue;
		binaries.push(entry?.binary);
		imageSizes.push(entry?.size);
	}
	// 2.5 reports no usage.size: each image's own size is then read from its downloaded header.
	const sizeOf = (position: number) => (base.size === undefined ? imageSizes[position] : undefined);

	if (settings.items === 'perTask') {
		const binary: IBinaryKeyData = {};
		const images = result.images.map((image, position) => {
			const key = position === 0 ? settings.binaryPropertyName : `${settings.binaryPropertyName}_${position}`;
			const stored = binaries[position];
			if (stored) binary[key] = stored;
			return stripUndefined({
				...image.fields,
				index: image.index,
				url: image.inline ? undefined : image.url,
				size: sizeOf(position),
				...(binaries[position] ? { binaryProperty: key } : {}),
			});
		});
		return [
			{
				json: stripUndefined({
					...base,
					size: base.size ?? commonSize(imageSizes),
					images,
					failedImages: result.failedImages as unknown as IDataObject[],
				}),
				...(Object.keys(binary).length ? { binary } : {}),
				pairedItem,
			},
		];
	}

	const items: INodeExecutionData[] = result.images.map((image, position) => ({
		json: stripUndefined({ ...base, ...image.fields, size: base.size ?? sizeOf(position), imageIndex: image.index, url: image.inline ? undefined : image.url }),
		...(binaries[position] ? { binary: { [settings.binaryPropertyName]: binaries[position] } } : {}),
		pairedItem,
	}));
	for (const failed of result.failedImages) {
		items.push({
			json: stripUndefined({
				...base,
				imageIndex: failed.index,
				error: `Image ${failed.index} failed: ${failed.code} ${failed.message}`.trim(),
				code: failed.code,
				message: failed.message,
				url: failed.url,
			}),
			pairedItem,
		});
	}
	return items.sort((a, b) => Number(a.json.imageIndex) - Number(b.json.imageIndex));
}

function taskJson(result: TaskResult, context: TaskContext): IDataObject {
	const json: IDataObject = {
		taskId: result.taskId,
		status: result.status,
		operation: context.operation,
		model: context.model,
		region: context.region,
		prompt: context.prompt,
		actualPrompt: result.actualPrompt,
		texts: result.texts.length ? result.texts : undefined,
		seed: context.seed,
		requestedSize: context.requestedSize,
		size: result.size,
		imageCount: result.images.length,
		failedCount: result.failedImages.length,
		usage: result.usage as IDataObject | undefined,
		requestId: result.requestId || undefined,
		urlsExpireAt: result.urlsExpireAt,
		timings: stripUndefined({
			submittedAt: context.submittedAt,
			serviceSubmitTime: serviceTimeToIso(result.submitTime),
			serviceStartTime: serviceTimeToIso(result.scheduledTime),
			serviceEndTime: serviceTimeToIso(result.endTime),
			waitedMs: context.waitedMs,
		}),
	};
	return stripUndefined(json);
}

/** A collectable task's image: any failure fails the item, saying how to collect the task again. */
async function downloadImage(
	ctx: IExecuteFunctions,
	image: ResultImage,
	fileName: string,
	result: TaskResult,
	fetcher: ResultFetcher,
) {
	try {
		return await storeImage(ctx, image, fileName, fetcher);
	} catch (error) {
		// The task succeeded and was billed: say how to get the image back instead of losing it.
		const reason = error instanceof Error ? error.message : String(error);
		const wrapped = error instanceof Error ? error : new Error(reason);
		wrapped.message =
			`Task ${result.taskId} succeeded but downloading its image failed (${reason}). ` +
			`The result URL stays valid until ${result.urlsExpireAt}: run "Wait for Task" with task ID ${result.taskId} to download it again.`;
		throw wrapped;
	}
}

/**
 * For a service that keeps nothing to collect later: a few tries, then the image is reported as failed
 * (with the URL to fetch it by hand) instead of failing the item and losing the images already stored.
 * A stopped execution still ends the item.
 */
async function downloadOrReport(
	ctx: IExecuteFunctions,
	image: ResultImage,
	fileName: string,
	result: TaskResult,
	fetcher: ResultFetcher,
): Promise<StoredImage> {
	let reason = '';
	let stopped: unknown;
	for (let attempt = 1; attempt <= UNCOLLECTABLE_ATTEMPTS && stopped === undefined; attempt++) {
		try {
			return await storeImage(ctx, image, fileName, fetcher);
		} catch (error) {
			if (fetcher.signal?.aborted) stopped = error;
			reason = error instanceof Error ? error.message : String(error);
			if (attempt < UNCOLLECTABLE_ATTEMPTS && stopped === undefined) {
				await new Promise((resolve) => setTimeout(resolve, UNCOLLECTABLE_RETRY_DELAY_MS * attempt));
			}
		}
	}
	if (stopped !== undefined) throw stopped;
	const tries = `${UNCOLLECTABLE_ATTEMPTS} tries`;
	return {
		failed: image.inline
			? { index: image.index, code: 'StoreFailed', message: `storing it failed after ${tries} (${reason}); the service sent it in its answer and keeps no copy` }
			: {
					index: image.index,
					code: 'DownloadFailed',
					message: `downloading it failed after ${tries} (${reason}); download it from its URL by hand before ${result.urlsExpireAt}`,
					url: image.url,
				},
	};
}

/** Every image of a result failed to store: the item fails, naming each image and where to fetch it. */
function nothingStored(result: TaskResult, lost: FailedImage[]): Error {
	const each = lost.map((failed) => `image ${failed.index}: ${failed.message}${failed.url ? ` — ${failed.url}` : ''}`);
	return new Error(`Task ${result.taskId} succeeded but none of its images could be stored (${each.join('; ')}).`);
}

/** Streams one result image into n8n's binary storage, checking it is the complete image announced. */
async function storeImage(ctx: IExecuteFunctions, image: ResultImage, fileName: string, fetcher: ResultFetcher): Promise<{ binary: IBinaryData; size?: string }> {
	const url = image.url;
	const downloaded = await fetcher.download(url, { signal: fetcher.signal });
	const mimeType = (downloaded.contentType ?? '').split(';')[0].trim().toLowerCase() || mimeFromUrl(url);
	const name = fixExtension(fileName, mimeType.startsWith('image/') ? mimeType : mimeFromUrl(url));
	const verifier = imageVerifier(downloaded.contentLength, mimeType);
	const body = pipeline(downloaded.body as unknown as Readable, verifier.tap, () => {
		// Errors reach prepareBinaryData through the destroyed tap, and verifier.problem() below.
	});
	const binary = await ctx.helpers.prepareBinaryData(body, name, mimeType.startsWith('image/') ? mimeType : verifier.mimeType() ?? 'image/png');
	const problem = verifier.problem();
	if (problem) throw new Error(problem);
	downloaded.stored?.();
	return { binary, size: await verifier.size() };
}

/** Image formats by magic bytes, and how each one's last bytes show the file is complete. */
const imageFormats: Array<{ mimeType: string; head(b: Buffer): boolean; complete(tail: Buffer, head: Buffer, total: number): boolean }> = [
	{
		mimeType: 'image/png',
		head: (b) => b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a,
		// The IEND chunk: length 0, type IEND, its fixed CRC.
		complete: (tail) => tail.length >= 12 && tail.subarray(-12).equals(Buffer.from('0000000049454e44ae426082', 'hex')),
	},
	{
		mimeType: 'image/jpeg',
		head: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
		complete: (tail) => tail.length >= 2 && tail[tail.length - 2] === 0xff && tail[tail.length - 1] === 0xd9,
	},
	{
		mimeType: 'image/webp',
		head: (b) => b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
		complete: (_tail, head, total) => head.readUInt32LE(4) + 8 === total,
	},
	{
		mimeType: 'image/gif',
		head: (b) => b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6)),
		complete: (tail) => tail.length >= 1 && tail[tail.length - 1] === 0x3b,
	},
	{
		mimeType: 'image/bmp',
		head: (b) => b.length >= 6 && b.toString('latin1', 0, 2) === 'BM',
		complete: (_tail, head, total) => head.readUInt32LE(2) === total,
	},
];

const HEAD_BYTES = 32;
const TAIL_BYTES = 16;
/** Bytes of a download kept for its header: enough for PNG, WebP, BMP and JPEGs without a huge EXIF block. */
const HEADER_BYTES = 64 * 1024;

/**
 * Passes a download through unchanged while checking it is the image the service announced: an image by
 * its magic bytes (an HTML error page served with 200 is refused at its first bytes), exactly
 * Content-Length bytes, and — with no Content-Length — a complete file by its format's end marker.
 * Also keeps the file's first bytes, so the image's own pixel size can be read from its header.
 */
export function imageVerifier(contentLength: number | undefined, declaredType: string) {
	let head = Buffer.alloc(0);
	const header: Buffer[] = [];
	let kept = 0;
	let tail = Buffer.alloc(0);
	let total = 0;
	let problem: string | undefined;
	let format: (typeof imageFormats)[number] | undefined;
	const notImage = () => {
		const text = head.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 24);
		return `the download is not an image (${declaredType || 'no content type'}, starts with "${text}")`;
	};
	// Nothing is passed on before the first bytes prove an image: an error page never reaches storage.
	let held: Buffer[] = [];
	const tap = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			total += chunk.length;
			tail = chunk.length >= TAIL_BYTES ? Buffer.from(chunk.subarray(-TAIL_BYTES)) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
			if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
			if (kept < HEADER_BYTES) {
				const part = Buffer.from(chunk.subarray(0, HEADER_BYTES - kept));
				header.push(part);
				kept += part.length;
			}
			if (format) return done(null, chunk);
			held.push(chunk);
			if (head.length < 12) return done();
			format = imageFormats.find((f) => f.head(head));
			if (!format) return done(new Error((problem = notImage())));
			const ready = Buffer.concat(held);
			held = [];
			done(null, ready);
		},
		flush(done) {
			format ??= imageFormats.find((f) => f.head(head));
			if (format && held.length) this.push(Buffer.concat(held));
			if (!format) problem = total === 0 ? 'the download was empty' : notImage();
			else if (contentLength !== undefined && total !== contentLength) {
				problem = `the download was cut short: ${total} of ${contentLength} bytes`;
			} else if (contentLength === undefined && !format.complete(tail, head, total)) {
				problem = `the download was cut short: ${total} bytes and no complete ${format.mimeType.slice(6).toUpperCase()} end`;
			}
			done(problem ? new Error(problem) : null);
		},
	});
	return {
		tap,
		problem: () => problem,
		mimeType: () => format?.mimeType,
		/** "W*H" from the image's own header, or undefined when it cannot be read (no size rather than a wrong one). */
		size: async (): Promise<string | undefined> => {
			try {
				const probe = await probeImage(bufferReader(Buffer.concat(header)));
				return probe.width && probe.height ? `${probe.width}*${probe.height}` : undefined;
			} catch {
				return undefined;
			}
		},
	};
}

/** The tokens a file-name template may use. */
export const fileNameTokens = ['taskId', 'index', 'item', 'model', 'ext'] as const;

/** `{index}` (mixes with n8n expressions) or the older `{{index}}`; the token is group 1 or 2. */
const tokenPattern = /\{\{\s*(\w+)\s*\}\}|\{(\w+)\}/g;

/**
 * Why a file-name template cannot work (checked before anything is submitted), or undefined. Unknown
 * tokens would end up literally in every file name; control characters are not allowed in file names.
 */
export function fileNameTemplateProblem(template: string): string | undefined {
	const known: readonly string[] = fileNameTokens;
	const unknown = [...template.matchAll(tokenPattern)].map((m) => m[0]).filter((whole) => !known.includes(whole.replace(/[{}\s]/g, '')));
	const tokenList = fileNameTokens.map((t) => `{${t}}`).join(', ');
	if (unknown.length) return `has the unknown token ${unknown[0]}; use only ${tokenList}`;
	// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
	if (/[\u0000-\u001f\u007f]/.test(template)) return 'contains a control character (e.g. a line break): remove it';
	if (template.length > 200) return `is ${template.length} characters long; keep it under 200`;
	return undefined;
}

/** The size every image shares, or undefined when they differ (each then carries its own). */
function commonSize(sizes: Array<string | undefined>): string | undefined {
	const distinct = new Set(sizes);
	return distinct.size === 1 ? sizes[0] : undefined;
}

/**
 * DashScope's task times ("2026-03-26 17:16:01.663") carry no zone; they are China Standard Time
 * (UTC+8), so they become UTC ISO strings like `submittedAt`. A time that names its zone is kept as such.
 */
export function serviceTimeToIso(time: string | undefined): string | undefined {
	if (!time) return undefined;
	const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})?$/.exec(time.trim());
	if (!match) return time;
	const parsed = Date.parse(`${match[1]}T${match[2]}${match[3] ?? '+08:00'}`);
	return Number.isNaN(parsed) ? time : new Date(parsed).toISOString();
}

/**
 * Tokens in single braces ({index}) mix with n8n expressions: in "={{ $json.sku }}-{index}.{ext}" n8n
 * evaluates only the double braces. The older double-brace form ({{index}}) still works where the
 * field is not an expression (n8n would evaluate it there first).
 */
export function renderFileName(
	template: string,
	result: Pick<TaskResult, 'taskId'>,
	context: Pick<TaskContext, 'model'>,
	index: number,
	itemIndex: number,
	mimeType: string,
): string {
	const values: Record<string, string> = {
		taskId: result.taskId,
		index: String(index),
		item: String(itemIndex + 1),
		model: context.model ?? 'wan',
		ext: extensions[mimeType] ?? 'png',
	};
	const rendered = (template || defaultFileNameTemplate).replace(tokenPattern, (whole, doubled: string | undefined, single: string | undefined) => {
		const token = doubled ?? single!;
		return token in values ? values[token] : whole;
	});
	// A file name, not a path.
	return rendered.replace(/[/\\]/g, '_');
}

/** Makes the extension agree with the real MIME type (a JPEG is never named .png). */
export function fixExtension(fileName: string, mimeType: string): string {
	const wanted = extensions[mimeType];
	if (!wanted) return fileName;
	const match = /\.([A-Za-z0-9]{2,5})$/.exec(fileName);
	if (!match) return `${fileName}.${wanted}`;
	const current = match[1].toLowerCase();
	if (current === wanted || (wanted === 'jpg' && current === 'jpeg')) return fileName;
	return Object.values(extensions).includes(current) || current === 'jpeg'
		? `${fileName.slice(0, -match[0].length)}.${wanted}`
		: `${fileName}.${wanted}`;
}

function mimeFromUrl(url: string): string {
	const path = url.split('?')[0].toLowerCase();
	const entry = Object.entries(extensions).find(([, ext]) => path.endsWith(`.${ext}`));
	return entry?.[0] ?? (path.endsWith('.jpeg') ? 'image/jpeg' : 'image/png');
}

function stripUndefined(record: IDataObject): IDataObject {
	return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as IDataObject;
}
