/**
 * OpenAI-style errors (GATEWAY_API.md §7): `{error:{message,type,param,code}}`, `param` and `code`
 * strings or null. Validation uses code 'InvalidParameter' (the upstream code new-api copies through,
 * §7/§11) with type 'invalid_request_error' (OpenAI's own; gateway `type` values are UNCONFIRMED).
 */
export interface OpenAiErrorBody {
	error: { message: string; type: string; param: string | null; code: string | null };
}

export class GatewayError extends Error {
	constructor(
		readonly status: number,
		readonly code: string | null,
		message: string,
		readonly param: string | null = null,
		readonly type = defaultType(status),
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}

	body(): OpenAiErrorBody {
		return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
	}
}

function defaultType(status: number): string {
	if (status === 401) return 'authentication_error';
	if (status === 403) return 'permission_error';
	if (status === 404) return 'not_found_error';
	if (status === 429) return 'rate_limit_error';
	if (status >= 500) return 'server_error';
	return 'invalid_request_error';
}

/** 400 InvalidParameter naming the field. */
export const invalid = (param: string, message: string): GatewayError => new GatewayError(400, 'InvalidParameter', message, param);
