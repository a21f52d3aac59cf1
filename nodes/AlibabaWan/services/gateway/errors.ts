/**
 * A gateway's error answers → ApiError: the OpenAI envelope `{error:{message, type, param, code}}`
 * (GATEWAY_API.md §7), the fallbacks gateways and proxies send instead (`{code, message}`, `{msg}`,
 * HTML or text), and a hint per status in the gateway's terms. The key is scrubbed by the caller.
 */
import { ApiError, isQuotaCode } from '../../transport/errors';
import type { ErrorAnswer } from '../../transport/types';

export const GATEWAY_NAME = 'Gateway';

/** Put before the hint of any failure after the request went out without a usable answer. */
export const BILLED_MAYBE_HINT =
	'The request reached the gateway but its answer was lost, so images may have been generated and billed. A gateway returns no task ID, ' +
	"so they cannot be collected later: check the gateway's usage or billing page before running the item again, and do not use n8n's " +
	'"Retry On Fail" here: it would generate (and bill) the images again.';

/** Said in the message itself whenever the answer of a sent request was lost. */
export const BILLED_MAYBE = 'images may have been generated and billed';

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function hintFor(code: string, message: string, httpStatus?: number, param?: string): string | undefined {
	if (httpStatus === 401 || code === 'invalid_api_key') {
		return "The gateway refused the API key: check the credential's API Key (copied in full) and that it belongs to this gateway's Base URL.";
	}
	if (httpStatus === 402 || isQuotaCode(code, message) || /balance|insufficient|credit|余额/i.test(message)) {
		return 'The gateway account has no balance or quota left. Top it up on the gateway; retrying will not help.';
	}
	if (httpStatus === 403) {
		return 'The gateway does not allow this key to use this model or route (or the balance is used up): check the account on the gateway.';
	}
	if (httpStatus === 404 && (code === 'model_not_found' || param === 'model' || /model/i.test(message))) {
		return "The gateway does not know this model ID. Gateways rename models: enter the gateway's own ID in the credential (Model ID for Wan 2.7 Image / Image Pro).";
	}
	if (httpStatus === 404 || httpStatus === 405) {
		return "The gateway has no such route: check the credential's Base URL (usually ending in /v1) and Path.";
	}
	if (code === 'unknown_parameter') {
		return `The gateway does not accept the field "${param ?? ''}": check the credential's Image Field and Size Format (this gateway's dialect).`;
	}
	if (code === 'DataInspectionFailed' || /inspection|moderation|sensitive/i.test(message)) {
		return 'Content moderation flagged the prompt or an input image. Rephrase the prompt or use different images.';
	}
	if (httpStatus === 413) return 'The request is too large for the gateway: send fewer or smaller images, or pass them as URLs.';
	if (httpStatus === 429) return 'The gateway is rate-limiting this key: lower the node\'s Concurrency or spread the items out over time.';
	if (httpStatus === 400 || httpStatus === 422) {
		return `The gateway refused a field${param ? ` (${param})` : ''}: check the item's parameters and the credential's dialect settings.`;
	}
	if (code === 'Timeout') {
		return "The gateway did not answer within the request timeout (credential › Request Timeout, and the item's Timeout option).";
	}
	if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'NetworkError') {
		return "Could not reach the gateway. Check the credential's Base URL, the network and the proxy settings (HTTP_PROXY / HTTPS_PROXY / NO_PROXY).";
	}
	return undefined;
}

/** A non-2xx answer (or an `error` object on a 2xx) → ApiError. */
export function errorFromAnswer(answer: ErrorAnswer): ApiError {
	const { status, bodyText } = answer;
	const trimmed = bodyText.trim();
	let code: string | undefined;
	let message: string | undefined;
	let param: string | undefined;
	let type: string | undefined;
	let parsedJson = false;
	if (trimmed.startsWith('{')) {
		try {
			const parsed = JSON.parse(trimmed) as Record<string, unknown>;
			parsedJson = typeof parsed === 'object' && parsed !== null;
			const envelope = parsed.error;
			if (envelope && typeof envelope === 'object') {
				const error = envelope as Record<string, unknown>;
				message = text(error.message);
				code = text(error.code) ?? (typeof error.code === 'number' ? String(error.code) : undefined);
				param = text(error.param);
				type = text(error.type);
			} else {
				message = text(envelope) ?? text(parsed.message) ?? text(parsed.msg) ?? text(parsed.detail);
				code = text(parsed.code) ?? text(parsed.type);
			}
		} catch {
			// not JSON after all: shown as text below
		}
	}
	code ??= type ?? `HTTP${status}`;
	if (!message) {
		const snippet = parsedJson ? '' : trimmed.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
		message = `${status} ${answer.statusText || 'error'}${snippet ? `: ${snippet}` : ''}`;
	}
	if (param && !message.includes(param)) message = `${message} (field: ${param})`;
	return new ApiError({
		code,
		message,
		httpStatus: status,
		hint: hintFor(code, message, status, param),
		retryAfterMs: answer.retryAfterMs,
		operation: answer.operation,
		// A refusal of the request itself (4xx but 408/429) creates nothing; anything else may have.
		taskMayExist: status >= 400 && status < 500 && status !== 408 && status !== 429 ? false : undefined,
		retryable: false,
	});
}
