/**
 * OpenAI-style Wan gateways (seed 002, GATEWAY_API.md) behind the service interface. A gateway is
 * synchronous: the POST answers with the finished images, so `submitTask` returns the result at once
 * (SubmittedTask.result) and there is no task to wait for, look up or cancel. The node names each
 * request with its own reference (`gw-…`), used as the task ID in outputs, file names and the ledger.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import { modelCatalog } from '../../catalog/modelCatalog';
import type { FailedImage, ResultImage, TaskResult } from '../../tasks/taskResults';
import { ApiError } from '../../transport/errors';
import type { DownloadedResult } from '../../transport/types';
import type { WanService, WanSession } from '../types';
import type { InlineImage } from './answerReader';
import { GATEWAY_NAME, hintFor } from './errors';
import { downloadResult, generateImages, type GenerationAnswer } from './gatewayApi';
import { buildRequestBody } from './requestBody';
import { gatewayDifferences, gatewayModels, readSettings } from './settings';

/** Result URLs stay valid this long (seed 002); a gateway keeps nothing else to collect later. */
const resultValidityMs = 24 * 60 * 60 * 1000;

const SYNCHRONOUS =
	'An OpenAI-compatible gateway is synchronous: it answers each request with the finished images and returns no task ID, so there is no task to';

/** Handles of inline images never leave the session; they only look like URLs to the output code. */
const INLINE_SCHEME = 'gateway-inline:';

const imageMagic: Array<[string, (b: Buffer) => boolean]> = [
	['image/png', (b) => b.length >= 8 && b.readUInt32BE(0) === 0x89504e47],
	['image/jpeg', (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
	['image/webp', (b) => b.length >= 12 && b.toString('latin1', 8, 12) === 'WEBP'],
];

function synchronousError(what: string): ApiError {
	return new ApiError({
		code: 'SynchronousService',
		message: `${SYNCHRONOUS} ${what}`,
		hint: 'Use Generate Image, Edit Image, Fuse Images or Generate Image Set: their output already holds the images.',
		notSent: true,
		taskMayExist: false,
		service: GATEWAY_NAME,
	});
}

export const gatewayService: WanService = {
	id: 'gateway',
	displayName: 'OpenAI-Compatible Gateway',
	shortName: GATEWAY_NAME,
	credentialType: 'wanGatewayApi',
	models: gatewayModels,
	modelDifferences: gatewayDifferences,
	refusedOperations: {
		waitForTask:
			`${SYNCHRONOUS} wait for: Generate Image, Edit Image, Fuse Images and Generate Image Set already output the finished images. ` +
			'Use the DashScope service to submit tasks and collect them later.',
		cancelTask: `${SYNCHRONOUS} cancel: once a request is sent, the gateway generates (and bills) its images.`,
	},
	taskValidityMs: resultValidityMs,
	imageUrlSchemes: ['http:', 'https:'],
	secretsOf: (credentials) => [String(credentials.apiKey ?? '').trim(), String(credentials.apiKey ?? '')],
	connect(raw) {
		const settings = readSettings(raw);
		/** Inline images of answers received, until the output code has stored them (then dropped). */
		const inline = new Map<string, InlineImage>();
		const session: WanSession = {
			service: gatewayService,
			texts: {
				unknownTask: `${SYNCHRONOUS} look up`,
				unknownTaskOnCancel: `${SYNCHRONOUS} cancel`,
				runningNotCancellable: `${SYNCHRONOUS} cancel`,
			},
			cancellableStatuses: [],
			modelProblem(model) {
				if ((gatewayModels as readonly string[]).includes(model.id)) return undefined;
				return `${model.displayName} is not offered through an OpenAI-compatible gateway: use ${gatewayModels.map((id) => modelCatalog[id].displayName).join(' or ')}, or the DashScope service.`;
			},
			buildRequest(model, operation, parameters, images) {
				return { model, operation, route: settings.path, body: buildRequestBody(model, operation, parameters, images, settings) };
			},
			async submitTask(request, opts) {
				const reference = `gw-${randomUUID()}`;
				const answer = await generateImages(settings, request.body, reference, opts);
				const preview = request.body.preview() as { n?: unknown; enable_sequential?: unknown };
				// n is exact unless an image set was asked for (then it is an upper bound).
				const owed = preview.enable_sequential === true || typeof preview.n !== 'number' ? undefined : preview.n;
				const result = toTaskResult(reference, answer, owed, (index, image) => {
					const handle = `${INLINE_SCHEME}${reference}/${index}`;
					inline.set(handle, image);
					return handle;
				});
				return { taskId: reference, status: 'SUCCEEDED', requestId: answer.requestId, result };
			},
			async getTask() {
				throw synchronousError('wait for: the images are in the output of the operation that made them');
			},
			async cancelTask() {
				throw synchronousError('cancel: once a request is sent, the gateway generates (and bills) its images');
			},
			async downloadResult(url, opts): Promise<DownloadedResult> {
				const image = inline.get(url);
				if (!image) {
					if (url.startsWith(INLINE_SCHEME)) throw new ApiError({ code: 'InvalidArgument', message: 'This inline image was already stored', notSent: true });
					return await downloadResult(url, opts);
				}
				const first = image.chunks[0] ?? Buffer.alloc(0);
				return {
					// The bytes stay held until they are stored: a failed store can read them again (the gateway keeps no copy).
					body: Readable.from(image.chunks, { objectMode: false }) as DownloadedResult['body'],
					contentType: imageMagic.find(([, test]) => test(first))?.[0],
					contentLength: image.byteLength,
					stored: () => inline.delete(url),
				};
			},
			isTransient: () => false,
			hintFor: (code, message) => hintFor(code, message),
		};
		return session;
	},
};

/** A gateway's answer → the shared result shape (what a finished task would report). */
function toTaskResult(
	reference: string,
	answer: GenerationAnswer,
	owed: number | undefined,
	keepInline: (index: number, image: InlineImage) => string,
): TaskResult {
	const images: ResultImage[] = answer.images.map((image) =>
		'inline' in image ? { index: image.index, url: keepInline(image.index, image.inline), inline: true } : { index: image.index, url: image.url },
	);
	const failedImages: FailedImage[] = answer.failedImages.map((failed) => ({
		...failed,
		message: `${failed.message} (check its usage page for whether it was billed)`,
	}));
	for (let index = answer.entries + 1; owed !== undefined && index <= owed; index++) {
		failedImages.push({
			index,
			code: 'MissingImage',
			message: `the gateway returned ${answer.entries} of the ${owed} images asked for (check its usage page for whether the missing ones were billed)`,
		});
	}
	const now = Date.now();
	return {
		taskId: reference,
		status: 'SUCCEEDED',
		requestId: answer.requestId ?? '',
		images,
		failedImages,
		texts: [],
		actualPrompt: answer.revisedPrompt,
		submitTime: answer.created !== undefined ? new Date(answer.created * 1000).toISOString() : undefined,
		endTime: new Date(now).toISOString(),
		urlsExpireAt: new Date(now + resultValidityMs).toISOString(),
	};
}
