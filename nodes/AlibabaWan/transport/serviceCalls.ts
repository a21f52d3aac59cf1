/**
 * Pieces every service's client (services/<id>/…Api.ts) needs around the call runner: argument errors
 * that provably sent nothing, the key scrub on everything thrown, base-URL checks, JSON answers, and the
 * streamed download of a result URL (no Authorization header: result URLs authorize themselves).
 */
import { runCall, type ServiceProfile } from './callRunner';
import { ApiError, redact } from './errors';
import { headerValue, readText, type SendResult } from './httpClient';
import type { CallOptions, DownloadedResult } from './types';

const USER_AGENT = 'n8n-nodes-alibaba-wan';

/** A bad argument found before sending: nothing went out, so nothing can exist. */
export function usageError(message: string): ApiError {
	return new ApiError({ code: 'InvalidArgument', message, retryable: false, notSent: true, taskMayExist: false });
}

/**
 * The credential's API key, trimmed, or the error that says why it cannot be sent (nothing was sent):
 * empty, or with characters a header cannot carry. `code` and the hints are the service's.
 */
export function checkedApiKey(raw: unknown, code: string, hints: { missing: string; malformed: string }): string {
	const key = typeof raw === 'string' ? raw.trim() : '';
	const refuse = (message: string, hint: string) =>
		new ApiError({ code, message, hint, retryable: false, notSent: true, taskMayExist: false });
	if (!key) throw refuse('No API key is set in the credential', hints.missing);
	if (!/^[\x21-\x7e]+$/.test(key)) {
		throw refuse('The API key in the credential contains spaces or characters that cannot be sent in a header', hints.malformed);
	}
	return key;
}

/** Runs `fn`; whatever it throws leaves as an ApiError of `service`, with `secret` scrubbed from every string. */
export async function scrubbing<T>(secret: string | undefined, service: string, fn: () => Promise<T>): Promise<T> {
	const outcome = await fn().then(
		(value) => ({ ok: true as const, value }),
		(error: unknown) => ({ ok: false as const, error }),
	);
	if (outcome.ok) return outcome.value;
	const secrets = secret ? [secret] : [];
	const error = outcome.error;
	const clean =
		error instanceof ApiError
			? error.scrubbed(secrets)
			: new ApiError({ code: 'TransportError', message: redact(error instanceof Error ? error.message : String(error), secrets), retryable: false });
	clean.service ??= service;
	throw clean;
}

/**
 * An http(s) base URL without credentials, without its trailing slashes; `label` names it in the
 * refusal (nothing is sent). Every service checks its base URL here, the credential's override included.
 */
export function checkBaseUrl(baseUrl: string, label: string): string {
	if (!URL.canParse(baseUrl)) throw usageError(`${label} "${baseUrl}" is not a valid URL`);
	const parsed = new URL(baseUrl);
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`${label} must start with http:// or https://`);
	if (parsed.username || parsed.password) throw usageError(`${label} must not contain a user name or password: put the key in API Key`);
	return baseUrl.replace(/\/+$/, '');
}

/** A 2xx body as JSON; anything else is an InvalidResponse naming the service and the call. */
export async function readJsonAnswer(res: SendResult, service: string, operation: string, taskId?: string): Promise<unknown> {
	const text = await readText(res.body);
	const parsed = parseJson(text);
	if (parsed.ok) return parsed.value;
	const snippet = text.replace(/\s+/g, ' ').slice(0, 200);
	throw new ApiError({
		code: 'InvalidResponse',
		message: `${service} answered ${operation} with a body that is not JSON: ${snippet || '(empty)'}`,
		hint: `${service} answered with an unexpected response shape (a proxy or gateway in between?).`,
		operation,
		taskId,
		retryable: false,
	});
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
	try {
		return { ok: true, value: JSON.parse(text) as unknown };
	} catch {
		return { ok: false };
	}
}

/**
 * Streams a result URL. No Authorization header is sent (the URL is self-authorizing and may point at
 * a third-party host). Retries happen only until the response headers arrive. `expiredHint` explains
 * a 403/404 in the service's terms.
 */
export async function downloadResultUrl(
	url: string,
	opts: CallOptions,
	service: ServiceProfile,
	{ expiredHint, timeoutMs }: { expiredHint: string; timeoutMs: number },
): Promise<DownloadedResult> {
	return scrubbing(undefined, service.name, async () => {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			throw usageError('The result URL is not a valid URL');
		}
		if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
			throw usageError(`Result URLs must use http or https, not "${parsed.protocol}"`);
		}
		if (parsed.username || parsed.password) throw usageError('Result URLs must not contain credentials');
		return runCall<DownloadedResult>({
			service,
			operation: 'downloadResult',
			mode: 'read',
			method: 'GET',
			url: parsed.toString(),
			headers: { accept: '*/*', 'user-agent': USER_AGENT },
			timeoutMs: opts.timeoutMs ?? timeoutMs,
			opts,
			keepOpen: true,
			decorate: (error) => {
				if (error.httpStatus === 403 || error.httpStatus === 404) error.hint = expiredHint;
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
	});
}

export { USER_AGENT };

