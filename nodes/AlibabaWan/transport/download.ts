/**
 * Streams a result image from the signed URL a service returned. No Authorization header is sent (the
 * URL authorises itself and may point at another host). Retried only until the response headers arrive.
 */
import { runCall, type ServiceProfile } from './callRunner';
import { ApiError } from './errors';
import { headerValue } from './httpClient';
import type { CallOptions, DownloadedResult } from './types';

/** Sent on every request, so a service's logs can tell this node's calls apart. */
export const USER_AGENT = 'n8n-nodes-alibaba-wan';

/** Per-attempt deadline of a download, ms (CallOptions.timeoutMs overrides). */
export const DOWNLOAD_TIMEOUT_MS = 300_000;

export interface DownloadSpec {
	service: ServiceProfile;
	/** Shown when the URL is refused (403/404): how long the service keeps its result URLs. */
	expiredHint: string;
}

/** An http(s) URL without credentials in it, or a usage error naming it (`label`, e.g. "The result URL"). */
export function checkedHttpUrl(url: string, label: string): URL {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw usageError(`${label} is not a valid URL`);
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`${label} must start with http:// or https://, not "${parsed.protocol}"`);
	if (parsed.username || parsed.password) throw usageError(`${label} must not contain credentials`);
	return parsed;
}

export async function downloadSignedUrl(url: string, opts: CallOptions, spec: DownloadSpec): Promise<DownloadedResult> {
	const parsed = checkedHttpUrl(url, 'The result URL');
	return runCall<DownloadedResult>({
		service: spec.service,
		operation: 'downloadResult',
		mode: 'read',
		method: 'GET',
		url: parsed.toString(),
		headers: { accept: '*/*', 'user-agent': USER_AGENT },
		timeoutMs: opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS,
		opts,
		keepOpen: true,
		decorate: (error) => {
			if (error.httpStatus === 403 || error.httpStatus === 404) error.hint = spec.expiredHint;
		},
		onSuccess: async (res) => {
			const body = res.body;
			body.once('close', res.done);
			const length = Number(headerValue(res.headers, 'content-length'));
			return {
				body: body as DownloadedResult['body'],
				contentType: headerValue(res.headers, 'content-type'),
				contentLength: Number.isFinite(length) && length >= 0 ? length : undefined,
			};
		},
	});
}

/** A bad argument found before sending: nothing went out, so nothing can exist. */
export function usageError(message: string): ApiError {
	return new ApiError({ code: 'InvalidArgument', message, retryable: false, notSent: true, taskMayExist: false });
}
