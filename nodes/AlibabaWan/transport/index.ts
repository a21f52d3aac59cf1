/**
 * The shared HTTP layer's public surface (undici pool, retries, pacing, deadlines, the one API error,
 * key scrubbing). Each service's calls live in its own folder (services/<id>/) and use these.
 */
export * from './types';
export { ApiError, isApiError, failureCauseOf, isQuotaCode, isRateLimit, redact, scrubDeep } from './errors';
export type { FailureCause } from './errors';
export { toNodeApiError, apiErrorDetails, ERROR_DETAILS_KEY } from './nodeErrors';
export type { NodeErrorContext } from './nodeErrors';
export { getDispatcher, resetDispatcher, setDispatcherForTests, AGENT_OPTIONS } from './httpClient';
export { resetRateLimiters, DEFAULT_RATE_LIMITS, SlidingWindowLimiter } from './rateLimit';
export type { RateSlot } from './rateLimit';
export { ERROR_BODY_LIMIT, runCall, shouldRetry } from './callRunner';
export type { CallMode, CallSpec, Reconciliation, ServiceProfile } from './callRunner';
export { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter, sleep } from './retry';
export type { RetryPolicy } from './retry';
