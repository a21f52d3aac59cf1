/**
 * Task results → n8n items: every generated image (not only the first), downloaded as streamed
 * binary data with the right MIME type and file name, or as URLs; failed images reported per image.
 */
import type { IBinaryData, IBinaryKeyData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { pipeline, Transform, type Readable } from 'node:stream';

import { downloadResult } from '../transport';
import type { TaskResult } from '../tasks/taskResults';

export type OutputFormat = 'binary' | 'url';
export type OutputItems = 'perImage' | 'perTask';

export interface OutputSettings {
	format: OutputFormat;
	items: OutputItems;
	/** Tokens: {{taskId}} {{index}} {{item}} {{model}} {{ext}}. */
	fileNameTemplate: string;
	/** `data` → `data`, `data_1`, `data_2`… when all images share one item. */
	binaryPropertyName: string;
}

/** What the node knows about the task beyond the response itself. */
export interface TaskContext {
	operation: string;
	model?: string;
	region: string;
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

/** `Promise.all(items.map(fn))` with at most `limit` calls in flight; results in input order. */
async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await fn(items[index]);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}

export const defaultFileNameTemplate = '{{taskId}}-{{index}}.{{ext}}';

const extensions: Record<string, string> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/bmp': 'bmp',
	'image/gif': 'gif',
};

export async function resultToItems(
	ctx: IExecuteFunctions,
	result: TaskResult,
	context: TaskContext,
	settings: OutputSettings,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const base = taskJson(result, context);
	const pairedItem = { item: itemIndex };

	// One stored file per image, in image order (none with URL output).
	const binaries: IBinaryData[] = [];
	if (settings.format === 'binary') {
		// A set of 12 images is 12 downloads: run a few at once, keep their order.
		const downloaded = await mapConcurrently(result.images, DOWNLOAD_CONCURRENCY, (image) =>
			downloadImage(
				ctx,
				image.url,
				renderFileName(settings.fileNameTemplate, result, context, image.index, itemIndex, 'image/png'),
				result,
				signal,
			),
		);
		for (const { binary, size } of downloaded) {
			binaries.push(binary);
			// 2.5 reports no usage.size: the real output size is then read from the downloaded PNG.
			if (base.size === undefined && size) base.size = size;
		}
	}

	if (settings.items === 'perTask') {
		const binary: IBinaryKeyData = {};
		const images = result.images.map((image, position) => {
			const key = position === 0 ? settings.binaryPropertyName : `${settings.binaryPropertyName}_${position}`;
			if (binaries[position]) binary[key] = binaries[position];
			return { index: image.index, url: image.url, ...(binaries[position] ? { binaryProperty: key } : {}) };
		});
		return [
			{
				json: { ...base, images, failedImages: result.failedImages as unknown as IDataObject[] },
				...(binaries.length ? { binary } : {}),
				pairedItem,
			},
		];
	}

	const items: INodeExecutionData[] = result.images.map((image, position) => ({
		json: { ...base, imageIndex: image.index, url: image.url },
		...(binaries[position] ? { binary: { [settings.binaryPropertyName]: binaries[position] } } : {}),
		pairedItem,
	}));
	for (const failed of result.failedImages) {
		items.push({
			json: { ...base, imageIndex: failed.index, error: `Image ${failed.index} failed: ${failed.code} ${failed.message}`.trim(), code: failed.code, message: failed.message },
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
		requestId: result.requestId,
		urlsExpireAt: result.urlsExpireAt,
		timings: stripUndefined({
			submittedAt: context.submittedAt,
			serviceSubmitTime: result.submitTime,
			serviceStartTime: result.scheduledTime,
			serviceEndTime: result.endTime,
			waitedMs: context.waitedMs,
		}),
	};
	return stripUndefined(json);
}

async function downloadImage(
	ctx: IExecuteFunctions,
	url: string,
	fileName: string,
	result: TaskResult,
	signal?: AbortSignal,
) {
	const downloaded = await downloadResult(url, { signal }).catch((error: Error & { message: string }) => {
		// The task succeeded and was billed: say how to get the image back instead of losing it.
		error.message =
			`Task ${result.taskId} succeeded but downloading its image failed (${error.message}). ` +
			`The result URL stays valid until ${result.urlsExpireAt}: run "Wait for Task" with this task ID to download it again.`;
		throw error;
	});
	const mimeType = (downloaded.contentType ?? '').split(';')[0].trim().toLowerCase() || mimeFromUrl(url);
	const name = fixExtension(fileName, mimeType);
	const sniffer = pngSizeSniffer();
	const body = pipeline(downloaded.body as unknown as Readable, sniffer.tap, () => {
		// Errors reach prepareBinaryData through the destroyed tap.
	});
	const binary = await ctx.helpers.prepareBinaryData(body, name, mimeType);
	return { binary, size: sniffer.size() };
}

/** Passes a download through unchanged, keeping its first 24 bytes: a PNG's IHDR holds its pixel size there. */
function pngSizeSniffer(): { tap: Transform; size(): string | undefined } {
	let head = Buffer.alloc(0);
	const tap = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			if (head.length < 24) head = Buffer.concat([head, chunk.subarray(0, 24 - head.length)]);
			done(null, chunk);
		},
	});
	const isPng = () => head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR';
	return { tap, size: () => (isPng() ? `${head.readUInt32BE(16)}*${head.readUInt32BE(20)}` : undefined) };
}

/** The tokens a file-name template may use. */
export const fileNameTokens = ['taskId', 'index', 'item', 'model', 'ext'] as const;

const tokenPattern = /\{\{\s*(\w+)\s*\}\}/g;

/**
 * Why a file-name template cannot work (checked before anything is submitted), or undefined. Unknown
 * tokens would end up literally in every file name; control characters are not allowed in file names.
 */
export function fileNameTemplateProblem(template: string): string | undefined {
	const known: readonly string[] = fileNameTokens;
	const unknown = [...template.matchAll(tokenPattern)].map((m) => m[1]).filter((token) => !known.includes(token));
	const tokenList = fileNameTokens.map((t) => `{{${t}}}`).join(', ');
	if (unknown.length) return `has the unknown token {{${unknown[0]}}}; use only ${tokenList}`;
	// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
	if (/[\u0000-\u001f\u007f]/.test(template)) return 'contains a control character (e.g. a line break): remove it';
	if (template.length > 200) return `is ${template.length} characters long; keep it under 200`;
	return undefined;
}

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
	const rendered = (template || defaultFileNameTemplate).replace(tokenPattern, (whole, token: string) =>
		token in values ? values[token] : whole,
	);
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
