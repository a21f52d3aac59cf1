/**
 * One API call, the way every service's client makes it: paced (rate limiter), sent under the
 * per-attempt timeout and the item's deadline, retried where safe, and for creates never sent twice
 * unless the service proves the first attempt created nothing (its `submit.reconcile`, e.g. a look at
 * the task list). What differs per service comes in through `ServiceProfile` and the CallSpec hooks.
 */
import { ApiError, isQuotaCode, isRateLimit, timeoutError } from './errors';
import { headerValue, mapFailure, readText, send, type SendResult } from './httpClient';
import type { RateSlot, SlidingWindowLimiter } from './rateLimit';
import type { RunningSlots, SlotTicket } from './runningSlots';
import { backoffDelay, parseRetryAfter, resolvePolicy, sleep } from './retry';
import type { CallOptions, ErrorAnswer, StreamingJsonBody } from './types';

/** Error answers (and other small bodies) are read up to this many bytes. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** What a service tells the call runner about itself. */
export interface ServiceProfile {
	/** Named in messages ("DashScope did not complete the request…"). */
	name: string;
	/** A non-2xx answer → the service's ApiError (with its hint). */
	errorFromAnswer(answer: ErrorAnswer): ApiError;
	/** Its hint for a failure the transport raised without one (timeouts, network codes). */
	hintFor(error: ApiError): string | undefined;
	/** Put before the hint of a create whose task may exist (how to check, why not to retry). */
	taskMayExistHint: string;
}

/** After an ambiguous create: the task was found (adopt it), provably not created, or undecidable. */
export type Reconciliation<Task> =
	| { kind: 'adopt'; task: Task; how: 'request-id' | 'only-candidate' }
	| { kind: 'none' }
	| { kind: 'uncertain'; candidates: string[]; reason: string };

/**
 * `read`: idempotent, retried on network errors, 408, 429 (not quota), 500/502/503/504.
 * `create`: billable; retried only when the failure provably created no task.
 */
export type CallMode = 'read' | 'create';

export interface CallSpec<T, Task = unknown> {
	service: ServiceProfile;
	operation: string;
	mode: CallMode;
	method: 'GET' | 'POST';
	url: string;
	headers: Record<string, string>;
	/** Built per attempt (a StreamingJsonBody is re-opened by send()). */
	body?: string | StreamingJsonBody;
	limiter?: SlidingWindowLimiter;
	/**
	 * Creates only: the account's running-task slots for this model. After a 429 for want of a running slot
	 * (`isSlotRefusal`) a submit waits here until a slot is known or likely free (runningSlots.ts) instead of
	 * being paused for Retry-After.
	 */
	slots?: { gate: RunningSlots; isSlotRefusal(error: ApiError): boolean };
	timeoutMs: number;
	opts: CallOptions;
	/** The API key, so retry events can be scrubbed before they leave. */
	secret?: string;
	taskId?: string;
	/** Handle a 2xx answer. `keepOpen` callers own `res.done()` (streamed downloads). */
	onSuccess(res: SendResult): Promise<T>;
	keepOpen?: boolean;
	/** Extra hint adjustments per operation. */
	decorate?(error: ApiError): void;
	/**
	 * Creates only: `track` holds each attempt so a sibling's check waits for it; `reconcile` decides
	 * after an ambiguous answer whether a task was created.
	 */
	submit?: {
		track<R>(attempt: Promise<R>): Promise<R>;
		reconcile(error: ApiError, attemptStartedAt: number): Promise<Reconciliation<Task>>;
	};
	/** Creates only: what to return when the task was found. */
	adopt?(task: Task, how: 'request-id' | 'only-candidate'): T;
}

export async function runCall<T, Task = unknown>(spec: CallSpec<T, Task>): Promise<T> {
	const policy = resolvePolicy(spec.opts.retry);
	const signal = spec.opts.signal;
	const deadline = spec.opts.deadline;
	let counted = 0;
	for (let attempt = 1; ; attempt++) {
		if (deadline !== undefined && Date.now() >= deadline) {
			const e = timeoutError(spec.timeoutMs, spec.operation, spec.service.name);
			e.message = 'The Timeout passed before the request could be sent';
			e.notSent = true;
			if (spec.taskId) e.taskId = spec.taskId;
			throw finalize(spec, withHint(spec, e));
		}
		const attemptStartedAt = Date.now();
		let error: ApiError;
		try {
			return await attemptOnce(spec);
		} catch (caught) {
			error = withHint(spec, mapFailure(caught, undefined, undefined, spec.operation));
		}
		// Retry-After (and the backoff) count from the answer, so the time a reconciliation took is not waited twice.
		const answeredAt = Date.now();
		if (spec.taskId && !error.taskId) error.taskId = spec.taskId;
		if (!error.operation) error.operation = spec.operation;

		// A create whose answer could have followed acceptance: the task list decides, never a blind resend.
		if (spec.mode === 'create' && spec.submit && mayFollowAcceptance(error)) {
			const outcome = await spec.submit.reconcile(error, attemptStartedAt);
			settleHeldClaim(error, outcome.kind === 'adopt' ? 'accepted' : outcome.kind === 'none' && error.code !== 'Timeout' && error.code !== 'Aborted' ? 'unused' : 'lost');
			if (outcome.kind === 'adopt' && spec.adopt) return spec.adopt(outcome.task, outcome.how);
			if (outcome.kind === 'uncertain') {
				error.taskMayExist = true;
				if (outcome.candidates.length) error.candidateTaskIds = outcome.candidates;
				error.hint =
					(outcome.candidates.length
						? `Tasks that may be this item's (created in the same seconds): ${outcome.candidates.join(', ')}; ${outcome.reason}. `
						: `Whether a task was created is unknown: ${outcome.reason}. `) + (error.hint ?? '');
				throw finalize(spec, error);
			}
			if (outcome.kind === 'none') {
				// Our own timeout or abort hung up while the service may still be processing the request: an empty
				// list is not proof then. An answer (any status) or the server closing the connection is.
				if (error.code === 'Timeout' || error.code === 'Aborted') {
					error.taskMayExist = true;
					error.hint = `No task is listed yet, but ${spec.service.name} may still be processing the request. ${error.hint ?? ''}`.trim();
					throw finalize(spec, error);
				}
				error.taskMayExist = false;
			}
		}

		settleHeldClaim(error, 'lost'); // held but not reconciled: its slot may be taken
		// The Timeout ran out while waiting to send: final, and the message already says so.
		if (slotWaitTimeouts.has(error)) throw finalize(spec, error);
		error.retryable = shouldRetry(spec.mode, error);
		// With a deadline, waiting out a rate limit (e.g. the 5-running-tasks limit) is bounded by time, not count.
		if (!(deadline !== undefined && isRateLimit(error))) counted++;
		const askedMs = backoffDelay(counted - 1, policy, error.retryAfterMs);
		const waitMs = Math.max(0, askedMs - (Date.now() - answeredAt));
		// A submit refused for want of a running slot waits in the slot gate instead (a probe at Retry-After,
		// or at once when one of our tasks frees a slot).
		const delayMs = slotRefusals.has(error) ? 0 : waitMs;
		const tooLong =
			deadline !== undefined
				? Date.now() + waitMs > deadline
				: error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs;
		if (!error.retryable || counted >= policy.maxAttempts || tooLong) {
			if (tooLong && error.retryable && deadline !== undefined && error.httpStatus !== undefined) {
				error.message += ` (${spec.service.name} asked to wait ${Math.ceil(askedMs / 1000)} s, longer than what is left of the Timeout)`;
			}
			throw finalize(spec, error);
		}
		try {
			spec.opts.onRetry?.({
				operation: spec.operation,
				attempt,
				delayMs,
				error: error.scrubbed(spec.secret ? [spec.secret] : []),
				slotProbe: slotRefusals.get(error) === 'probe' || undefined,
			});
		} catch {
			// a logging callback must not change the outcome
		}
		try {
			await sleep(delayMs, signal, spec.operation);
		} catch (aborted) {
			// Only safe-to-retry failures get here, so an abort during the wait leaves no task behind.
			const e = mapFailure(aborted, undefined, undefined, spec.operation);
			e.notSent = true;
			if (spec.taskId) e.taskId = spec.taskId;
			throw finalize(spec, withHint(spec, e));
		}
	}
}

/**
 * Could the service have accepted the create before this failure? Only then is the task list consulted.
 * A 429 is included on purpose: the docs do not say a throttled create was refused before acceptance
 * (UNCONFIRMED), and gateways answer 429 after the backend took the request, so a 429 proves nothing —
 * the list decides, then Retry-After is waited out and the submit resent only if no task is listed.
 */
function mayFollowAcceptance(error: ApiError): boolean {
	if (error.notSent === true || error.taskMayExist === false) return false;
	if (error.code === 'InvalidArgument' || error.code === 'RequestBodyError') return false;
	const status = error.httpStatus;
	if (status === undefined) return true; // reset, timeout or abort after the body went out
	return status === 408 || status === 429 || status >= 500;
}

async function attemptOnce<T, Task>(spec: CallSpec<T, Task>): Promise<T> {
	const signal = spec.opts.signal;
	const limiter = spec.limiter;
	const deadline = spec.opts.deadline;
	let slot: RateSlot | undefined;
	let ticket: SlotTicket | undefined;
	if (limiter || spec.slots) {
		// Waiting for a slot (a running-task slot, pacing, or a pause after a 429) ends at the deadline too.
		const slotSignal =
			deadline === undefined
				? signal
				: AbortSignal.any([...(signal ? [signal] : []), AbortSignal.timeout(Math.max(1, deadline - Date.now()))]);
		try {
			if (spec.slots) ticket = await spec.slots.gate.acquire(slotSignal);
			if (limiter) slot = await limiter.acquire(slotSignal);
		} catch (error) {
			if (ticket) spec.slots!.gate.unused(ticket);
			const timedOut = !signal?.aborted && deadline !== undefined && Date.now() >= deadline - 50;
			const e = timedOut
				? Object.assign(timeoutError(spec.timeoutMs, spec.operation, spec.service.name), {
						message: `The Timeout passed while waiting for a free slot to send the request (${spec.service.name} limits requests per second and running tasks)`,
						hint:
							'Nothing was sent, so nothing was created or billed. The account stayed busy (its running tasks of this model, ' +
							'or its requests per second, perhaps with other workflows or workers on the same key): raise the Timeout option, or run this batch later.',
					})
				: mapFailure(error, undefined, undefined, spec.operation);
			e.notSent = true;
			if (timedOut) slotWaitTimeouts.add(e);
			throw e;
		}
	}
	// Reads are cut at the deadline. A create in flight is not: cutting it would leave a task unaccounted for.
	const timeoutMs =
		deadline !== undefined && spec.mode === 'read' ? Math.max(1, Math.min(spec.timeoutMs, deadline - Date.now())) : spec.timeoutMs;
	// The running-task slot is answered for exactly once: accepted, refused (429), unused, or — when the
	// answer was lost after sending — held until the task list decides (runCall).
	const claim: SlotClaim | undefined = ticket ? { gate: spec.slots!.gate, ticket, answered: false, sentAt: Date.now() } : undefined;
	const sending = send({
		method: spec.method,
		url: spec.url,
		headers: spec.headers,
		body: spec.body,
		timeoutMs,
		signal,
		operation: spec.operation,
		service: spec.service.name,
		onDispatch: () => {
			if (claim) claim.sentAt = Date.now();
			if (limiter && slot) limiter.markSent(slot);
		},
	});
	const handled = sending.then((res) => handle(spec, res, claim));
	const attempt = spec.submit ? spec.submit.track(handled) : handled;
	// Registered before the caller awaits, so the ticket is settled before runCall sees the failure.
	if (claim) attempt.then(undefined, (error: unknown) => settleFailedClaim(claim, error));
	return await attempt;
}

/** A running slot taken for one submit attempt, until the answer (or the task list) says what became of it. */
interface SlotClaim {
	gate: RunningSlots;
	ticket: SlotTicket;
	answered: boolean;
	/** When the request left (moved from the grant to the dispatch). */
	sentAt: number;
}

function settleFailedClaim(claim: SlotClaim, error: unknown): void {
	if (claim.answered) return;
	claim.answered = true;
	// A failure that could follow acceptance (reset, timeout, 5xx…): the task may hold the slot.
	if (error instanceof ApiError && mayFollowAcceptance(error)) heldClaims.set(error, claim);
	else claim.gate.unused(claim.ticket);
}

/** Waits for a slot (running-task gate or rate limiter) that the item's Timeout ended. */
const slotWaitTimeouts = new WeakSet<ApiError>();
/** 429s that refused a submit for want of a running slot, with the ticket it went out on (runningSlots.ts). */
const slotRefusals = new WeakMap<ApiError, SlotTicket>();
/** Slots of submits whose answer was lost after sending: settled once the task list decided. */
const heldClaims = new WeakMap<ApiError, SlotClaim>();

function settleHeldClaim(error: ApiError, how: 'accepted' | 'unused' | 'lost'): void {
	const held = heldClaims.get(error);
	if (!held) return;
	heldClaims.delete(error);
	if (how === 'accepted') held.gate.accepted(held.ticket, held.sentAt);
	else held.gate[how](held.ticket);
}

async function handle<T, Task>(spec: CallSpec<T, Task>, res: SendResult, claim?: SlotClaim): Promise<T> {
	const limiter = spec.limiter;
	let handedOver = false;
	try {
		if (res.statusCode >= 200 && res.statusCode < 300) {
			limiter?.succeeded();
			// The service took the submit (even if its answer cannot be read, the task most likely exists).
			if (claim) {
				claim.answered = true;
				claim.gate.accepted(claim.ticket, claim.sentAt);
			}
			try {
				const value = await spec.onSuccess(res);
				handedOver = !!spec.keepOpen;
				return value;
			} catch (error) {
				const e = mapFailure(error, undefined, undefined, spec.operation);
				e.notSent = false;
				// A 2xx to a create whose body we could not use: the task most likely exists.
				if (spec.mode === 'create' && e.taskMayExist === undefined) e.taskMayExist = true;
				throw e;
			}
		}
		let text = '';
		try {
			text = await readText(res.body, ERROR_BODY_LIMIT);
		} catch (error) {
			const e = mapFailure(error, undefined, undefined, spec.operation);
			if (e.code === 'Aborted' || e.code === 'Timeout') throw Object.assign(e, { notSent: false });
		}
		const retryAfter = headerValue(res.headers, 'retry-after');
		const error = spec.service.errorFromAnswer({
			status: res.statusCode,
			statusText: res.statusText,
			bodyText: text,
			contentType: headerValue(res.headers, 'content-type'),
			retryAfterMs: parseRetryAfter(retryAfter),
			operation: spec.operation,
			taskId: spec.taskId,
		});
		error.notSent = false;
		if (claim && isRateLimit(error) && spec.slots!.isSlotRefusal(error)) {
			// No running slot free: submits of this model now go out only as slots free (runningSlots.ts),
			// clocked by task ends and probes — neither paused nor slowed, which would leave freed slots idle.
			claim.answered = true;
			claim.gate.refused(error.retryAfterMs, claim.sentAt, claim.ticket);
			slotRefusals.set(error, claim.ticket);
		} else if (limiter && isRateLimit(error)) {
			// Over the rate: hold the other queued requests too (for Retry-After, else one base backoff) instead
			// of letting each collect its own 429, and slow this process down for a while, so processes sharing
			// the key converge (AIMD).
			limiter.throttled();
			const policy = resolvePolicy(spec.opts.retry);
			const cap = spec.opts.deadline !== undefined ? Math.max(0, spec.opts.deadline - Date.now()) : policy.maxRetryAfterMs;
			limiter.pause(Math.min(error.retryAfterMs ?? policy.baseDelayMs, cap));
		}
		throw error;
	} finally {
		if (!handedOver) {
			if (spec.keepOpen && !res.body.destroyed) res.body.destroy();
			res.done();
		}
	}
}

const RETRYABLE_READ_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Whether another attempt is both useful and safe. */
export function shouldRetry(mode: CallMode, error: ApiError): boolean {
	if (error.code === 'Aborted' || error.code === 'InvalidResponse' || error.code === 'RequestBodyError') return false;
	if (error.code === 'InvalidArgument') return false;
	const status = error.httpStatus;
	if (status === 429 && isQuotaCode(error.code, error.message)) return false;
	if (mode === 'read') {
		if (status === undefined) return true; // network error or timeout
		return RETRYABLE_READ_STATUS.has(status);
	}
	// create: only when nothing was created — never sent, or the task list showed no task (reconcile.ts).
	const nothingCreated = error.notSent === true || error.taskMayExist === false;
	if (status === undefined) return nothingCreated;
	if (status === 408 || status === 429 || status >= 500) return nothingCreated;
	return false;
}

/** For a failed create that the task list did not settle: could a task have been created? */
function taskMayExist(error: ApiError): boolean {
	if (error.notSent === true) return false;
	const status = error.httpStatus;
	if (status === undefined) return true;
	if (status >= 200 && status < 300) return true;
	return status === 408 || status === 429 || status >= 500;
}

/** The service's hint for a failure the transport raised without one (timeouts, network codes). */
function withHint<T, Task>(spec: CallSpec<T, Task>, error: ApiError): ApiError {
	error.hint ??= spec.service.hintFor(error);
	return error;
}

function finalize<T, Task>(spec: CallSpec<T, Task>, error: ApiError): ApiError {
	if (spec.mode === 'create') {
		if (error.taskMayExist === undefined) error.taskMayExist = taskMayExist(error);
		if (error.taskMayExist) {
			error.retryable = false;
			error.hint = error.hint ? `${spec.service.taskMayExistHint} ${error.hint}` : spec.service.taskMayExistHint;
		}
	}
	spec.decorate?.(error);
	return error;
}
