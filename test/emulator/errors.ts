/**
 * DashScope error answers: non-2xx with `{request_id, code, message}` and Content-Type
 * application/json (§5.9, §9.4). Codes come from the error table (§6).
 */

export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = 'ApiError';
	}
}

export const invalidParameter = (message: string): ApiError => new ApiError(400, 'InvalidParameter', message);

/** Exact messages documented for the common cases. */
export const MSG = {
	noApiKey: 'No API-key provided.',
	invalidApiKey: 'Invalid API-key provided.',
	asyncRequired: 'current user api does not support synchronous calls',
	syncOnly: 'Current user api does not support asynchronous calls',
	urlError: 'url error, please check url!',
	emptyModel: 'Required parameter "model" missing from request.',
	emptyInput: 'Required input parameter missing from request.',
	modelNotExist: 'Model not exist.',
	rateQuota: 'Requests rate limit exceeded, please try again later.',
	downloadTimeout: 'Download the media resource timed out during the data inspection process.',
	inputInspection: 'Input data may contain inappropriate content.',
	outputInspection: 'Output data may contain inappropriate content.',
	ipInfringement: 'Input data is suspected of being involved in IP infringement.',
	internal: 'An internal error has occured, please try again later or contact service support.',
	algo: 'An internal error occurred during model inference, please try again later.',
} as const;

/** Default code for an injected HTTP fault with only a status. */
export function defaultCodeForStatus(status: number): string {
	switch (status) {
		case 400:
			return 'InvalidParameter';
		case 401:
			return 'InvalidApiKey';
		case 403:
			return 'AccessDenied';
		case 404:
			return 'ModelNotFound';
		case 408:
			return 'RequestTimeOut';
		case 413:
			return 'BadRequest.TooLarge';
		case 429:
			return 'Throttling';
		case 503:
			return 'ModelUnavailable';
		case 504:
			return 'RequestTimeOut';
		default:
			return status >= 500 ? 'InternalError' : 'InvalidParameter';
	}
}

export function defaultMessageForCode(code: string): string {
	if (code === 'Throttling' || code.startsWith('Throttling.')) return MSG.rateQuota;
	if (code === 'DataInspectionFailed') return MSG.inputInspection;
	if (code === 'IPInfringementSuspect') return MSG.ipInfringement;
	if (code === 'InternalError.Algo') return MSG.algo;
	if (code === 'ModelUnavailable' || code === 'ModelServingError') return 'Model is unavailable, please try again later.';
	if (code === 'RequestTimeOut') return 'Request timed out, please try again later.';
	return MSG.internal;
}

/** HTTP status a sync call answers when its generation fails with `code` (async tasks end FAILED instead). */
export function statusForTaskCode(code: string): number {
	if (code === 'DataInspectionFailed' || code === 'IPInfringementSuspect' || code.startsWith('InvalidParameter')) {
		return 400;
	}
	return 500;
}
