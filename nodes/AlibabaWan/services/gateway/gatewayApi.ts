/**
 * The gateway's calls: the synchronous, billable `POST {base}/images/generations`, and result downloads.
 * A generation is sent once: only a failure that provably left nothing on the wire (no connection, or
 * the body not fully sent) is tried again; after that, a timeout, a reset, a cancel or a 5xx ends the
 * call with an error that says images may have been generated and billed (GATEWAY_API.md §9).
 */
import { runCall, type ServiceProfile } from '../../transport/callRunner';
import { ApiError } from '../../transport/errors';
import { USER_AGENT, checkedApiKey, downloadResultUrl, scrubbing } from '../../transport/serviceCalls';
import { headerValue } from '../../transport/httpClient';
import type { FailedImage } from '../../tasks/taskResults';
import type { CallOptions, DownloadedResult, StreamingJsonBody } from '../../transport/types';
import { AnswerFormatError, isInlineImage, readAnswer, type InlineImage } from './answerReader';
import { BILLED_MAYBE, BILLED_MAYBE_HINT, GATEWAY_NAME, errorFromAnswer, hintFor } from './errors';
import type { GatewaySettings } from './settings';

/** Per-attempt deadline of a result download, ms. */
const DOWNLOAD_TIMEOUT_MS = 300_000;

const GATEWAY: ServiceProfile = {
	name: GATEWAY_NAME,
	errorFromAnswer,
	hintFor: (error) => hintFor(error.code, error.message, error.httpStatus),
	taskMayExistHint: BILLED_MAYBE_HINT,
};

/** One image of an answer: a URL to download, or the bytes sent inline. */
export type AnswerImage = { index: number; url: string } | { index: number; inline: InlineImage };

export interface GenerationAnswer {
	/** Unix seconds, as the gateway reports them. */
	created?: number;
	images: AnswerImage[];
	/** Entries of `data` that carry no usable image (the gateway may still have billed them). */
	failedImages: FailedImage[];
	/** How many entries `data` had (images and failed ones). */
	entries: number;
	/** The first non-empty `revised_prompt`. */
	revisedPrompt?: string;
	/** The gateway's `x-request-id`, when it sends one. */
	requestId?: string;
}

function authHeaders(settings: GatewaySettings): Record<string, string> {
	const key = checkedApiKey(settings.apiKey, 'invalid_api_key', {
		missing: "Enter the gateway's API key in the credential.",
		malformed: 'Copy the key again from the gateway.',
	});
	return { authorization: `Bearer ${key}`, accept: 'application/json', 'user-agent': USER_AGENT };
}

/**
 * Sends one generation and reads its answer. `reference` is this node's ID for the request (sent as
 * `X-Client-Request-Id`, OpenAI's header for it), named in every error so the user can ask the gateway.
 */
export async function generateImages(
	settings: GatewaySettings,
	body: StreamingJsonBody,
	reference: string,
	opts: CallOptions = {},
): Promise<GenerationAnswer> {
	return scrubbing(settings.apiKey, GATEWAY_NAME, () => {
		const headers = { ...authHeaders(settings), 'content-type': 'application/json', 'x-client-request-id': reference };
		// One request may take minutes; the item's Timeout (its deadline) cuts it shorter when it is.
		const left = opts.deadline !== undefined ? Math.max(1, opts.deadline - Date.now()) : Infinity;
		return runCall<GenerationAnswer>({
			service: GATEWAY,
			operation: 'generateImages',
			mode: 'create',
			method: 'POST',
			url: settings.baseUrl + settings.path,
			headers,
			body,
			timeoutMs: Math.min(opts.timeoutMs ?? settings.requestTimeoutMs, left),
			opts,
			secret: settings.apiKey,
			decorate: (error) => {
				error.taskId ??= reference;
				if (error.taskMayExist && !error.message.includes(BILLED_MAYBE)) {
					error.message = `${error.message}: the request had been sent, so ${BILLED_MAYBE} (request ${reference})`;
				}
			},
			onSuccess: async (res) => {
				// A network failure mid-answer passes through as it is (the transport maps it); bad JSON is named here.
				const json = await readAnswer(res.body).catch((error: unknown) =>
					Promise.reject(
						error instanceof AnswerFormatError
							? new ApiError({
									code: 'InvalidResponse',
									message: `The gateway answered ${res.statusCode} with a body that is not the expected JSON (${error.message})`,
									httpStatus: res.statusCode,
									retryable: false,
								})
							: error,
					),
				);
				return toAnswer(json, res.statusCode, headerValue(res.headers, 'x-request-id'));
			},
		});
	});
}

/** The answer's JSON → images in order; an `error` object on a 2xx is an error (GATEWAY_API.md §7). */
function toAnswer(json: unknown, status: number, requestId: string | undefined): GenerationAnswer {
	const body = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<string, unknown>;
	if (body.error !== undefined && body.error !== null && !Array.isArray(body.data)) {
		throw errorFromAnswer({ status, bodyText: JSON.stringify(body), operation: 'generateImages' });
	}
	if (!Array.isArray(body.data)) {
		throw new ApiError({
			code: 'InvalidResponse',
			message: `The gateway answered ${status} without a "data" list of images`,
			httpStatus: status,
			retryable: false,
		});
	}
	const images: AnswerImage[] = [];
	const failedImages: FailedImage[] = [];
	let revisedPrompt: string | undefined;
	for (const [position, raw] of body.data.entries()) {
		const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
		const index = position + 1;
		// new-api fills every key, with "" when unset: "" is absent (GATEWAY_API.md §6).
		// One broken entry costs only its own image: the others were billed too and are kept.
		if (isInlineImage(entry.b64_json) && entry.b64_json.byteLength > 0) {
			if (entry.b64_json.leftover) {
				failedImages.push({ index, code: 'InvalidResponse', message: `the gateway's image ${index} (b64_json) is not valid Base64: it ends mid-byte` });
			} else {
				images.push({ index, inline: entry.b64_json });
			}
		} else if (typeof entry.url === 'string' && entry.url.trim()) {
			images.push({ index, url: entry.url.trim() });
		} else {
			failedImages.push({ index, code: 'InvalidResponse', message: `the gateway's image ${index} has neither a url nor b64_json` });
		}
		if (revisedPrompt === undefined && typeof entry.revised_prompt === 'string' && entry.revised_prompt.trim()) {
			revisedPrompt = entry.revised_prompt;
		}
	}
	return {
		created: typeof body.created === 'number' ? body.created : undefined,
		images,
		failedImages,
		entries: body.data.length,
		revisedPrompt,
		requestId: requestId || undefined,
	};
}

/** Streams a result URL the gateway returned (valid 24 h per seed 002). */
export async function downloadResult(url: string, opts: CallOptions = {}): Promise<DownloadedResult> {
	return downloadResultUrl(url, opts, GATEWAY, {
		expiredHint:
			'The result URL was refused or has expired: gateways keep result URLs for about 24 hours (seed 002), and a gateway returns no task ID to fetch them again. Run the item again to make new images.',
		timeoutMs: DOWNLOAD_TIMEOUT_MS,
	});
}
