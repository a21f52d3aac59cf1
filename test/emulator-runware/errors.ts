/**
 * Runware's error shape (RUNWARE_API.md §7): `{"data": [], "errors": [{code, message, parameter?, type?,
 * min?, max?, multiplier?, taskType?, taskUUID?, documentation?}]}`. One RunwareError per refused task.
 */

export interface RunwareErrorItem {
	code: string;
	message: string;
	parameter?: string | string[];
	type?: string;
	min?: number;
	max?: number;
	multiplier?: number;
	taskType?: string;
	taskUUID?: string;
	documentation?: string;
}

const DOCS = 'https://runware.ai/docs/image-inference/api-reference';

export class RunwareError extends Error {
	constructor(
		readonly status: number,
		readonly item: RunwareErrorItem,
	) {
		super(item.message);
	}
}

/** `inputs.referenceImages` → `ReferenceImages`: the last path segment, capitalised (codes like invalidWidth). */
function codeSuffix(parameter: string): string {
	const leaf = parameter.split('.').pop() as string;
	return leaf.charAt(0).toUpperCase() + leaf.slice(1);
}

/** 400 `invalid<Param>`: "Invalid value for '<param>' parameter. <why>" (ESAMP wording). */
export function invalid(parameter: string, why: string, extra: Partial<RunwareErrorItem> = {}): RunwareError {
	return new RunwareError(400, {
		code: `invalid${codeSuffix(parameter)}`,
		message: `Invalid value for '${parameter}' parameter. ${why}`,
		parameter,
		...extra,
		documentation: `${DOCS}#request-${parameter.split('.').pop()!.toLowerCase()}`,
	});
}

/** 400 `missing<Param>`. */
export function missing(parameter: string): RunwareError {
	return new RunwareError(400, {
		code: `missing${codeSuffix(parameter)}`,
		message: `Missing required parameter '${parameter}'.`,
		parameter,
		documentation: `${DOCS}#request-${parameter.split('.').pop()!.toLowerCase()}`,
	});
}

export function unsupported(parameter: string, why = 'This parameter is not supported for this model.'): RunwareError {
	return new RunwareError(400, { code: 'unsupportedParameter', message: `Unsupported parameter '${parameter}'. ${why}`, parameter });
}

export function invalidApiKey(): RunwareError {
	return new RunwareError(401, {
		code: 'invalidApiKey',
		message: 'Invalid API key. Get one at https://my.runware.ai/keys',
		parameter: 'apiKey',
		taskType: 'authentication',
	});
}

/** Default code and message of an injected HTTP status (RUNWARE_API.md §7 table). */
export function codeForStatus(status: number): { code: string; message: string } {
	const table: Record<number, [string, string]> = {
		400: ['invalidRequest', 'The request is invalid.'],
		401: ['invalidApiKey', 'Invalid API key.'],
		402: ['insufficientCredits', 'Insufficient credits to run this task. Top up your balance.'],
		403: ['forbidden', 'This API key lacks permission for this request.'],
		404: ['taskFailedOrNotFound', 'Task failed or not found.'],
		429: ['rateLimitExceeded', 'The queue for this model is full. Retry later.'],
		500: ['timeoutProvider', 'The provider did not answer in time.'],
		502: ['providerError', 'The provider returned an error.'],
		503: ['providerUnavailable', 'The provider is unavailable.'],
		504: ['failedTaskTimeout', 'Results were not received within the expected time window.'],
	};
	const [code, message] = table[status] ?? (status >= 500 ? ['serverUnavailable', 'Server error.'] : ['invalidRequest', 'Request refused.']);
	return { code, message };
}
