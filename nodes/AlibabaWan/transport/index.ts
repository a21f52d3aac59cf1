/** The transport's public surface: the only code that talks HTTP to DashScope. */
export * from './types';
export {
	submitTask,
	getTask,
	cancelTask,
	listTasks,
	downloadResult,
	shouldRetry,
	containsOssUrl,
	isStreamingBody,
	DEFAULT_TIMEOUTS,
	SUBMIT_PATHS,
} from './dashScopeApi';
export {
	DashScopeError,
	isDashScopeError,
	failureCauseOf,
	hintFor,
	isQuotaCode,
	isRateLimit,
	redact,
	scrubDeep,
	TASK_MAY_EXIST_HINT,
} from './errors';
export type { FailureCause } from './errors';
export { toNodeApiError, dashScopeDetails } from './nodeErrors';
export type { NodeErrorContext } from './nodeErrors';
export { getDispatcher, resetDispatcher, setDispatcherForTests, AGENT_OPTIONS } from './httpClient';
export { resetRateLimiters, DEFAULT_RATE_LIMITS, SlidingWindowLimiter } from './rateLimit';
export type { RateSlot } from './rateLimit';
export { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter, sleep } from './retry';
export type { RetryPolicy } from './retry';
