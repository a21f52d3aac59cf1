/**
 * Runware calls (RUNWARE_API.md §1, §2, §5–§7): one endpoint, `POST <base>` with a JSON array of tasks and
 * `Authorization: Bearer <key>`. Submit an async imageInference, read it with getResponse, download its
 * result URLs. Each call is run by the shared call runner (transport/callRunner.ts: retried where safe,
 * deadlines). A submit is never sent twice with a different taskUUID: after an ambiguous failure the
 * task is looked up by its taskUUID (adopted if found). Only when Runware answers that it has no such
 * task is the submit resent, with the same taskUUID, so a task created meanwhile gets `conflictTaskUUID`
 * (adopted too) rather than a twin; when the lookup itself fails the taskUUID is reported, not resent.
 */
import { runCall, type ServiceProfile } from '../../transport/callRunner';
import { ApiError } from '../../transport/errors';
import { getLimiter, type RateLimitFamily } from '../../transport/rateLimit';
import { USER_AGENT, checkBaseUrl, checkedApiKey, downloadResultUrl, readJsonAnswer, scrubbing, usageError } from '../../transport/serviceCalls';
import type { CallOptions, DownloadedResult, StreamingJsonBody } from '../../transport/types';
import { TASK_MAY_EXIST_HINT, errorFromAnswer, errorFromItem, errorItemsOf, hintFor, type RunwareErrorItem } from './errors';

/** Where requests go and with which key. The key never leaves the session. */
export interface RunwareEndpoint {
	/** The API URL, e.g. https://api.runware.ai/v1 (no trailing slash). */
	url: string;
	apiKey: string;
}

export const DEFAULT_API_URL = 'https://api.runware.ai/v1';

/** Per-attempt deadlines, ms (CallOptions.timeoutMs overrides). */
export const DEFAULT_TIMEOUTS = { submit: 120_000, poll: 30_000, download: 300_000 } as const;

export const RUNWARE: ServiceProfile = {
	name: 'Runware',
	errorFromAnswer,
	hintFor: (error) => hintFor(error.code, error.message, error.httpStatus),
	taskMayExistHint: TASK_MAY_EXIST_HINT,
};

/**
 * Runware states no fixed rate limits (§8: shared queues, 429 when full). These per-key limiters only
 * pace bursts and, after a 429, hold every queued request of the key (the call runner pauses them).
 */
export const RUNWARE_RATES: RateLimitFamily = { prefix: 'runware', limits: { submit: 10, query: 20 } };
export const runwareLimiter = (kind: 'submit' | 'query', endpoint: RunwareEndpoint) => getLimiter(kind, endpoint.url, endpoint.apiKey, RUNWARE_RATES);

/** One item of `data` (a result, a per-generation status, or an acknowledgement). */
export interface RunwareDataItem {
	taskType?: string;
	taskUUID?: string;
	status?: string;
	imageUUID?: string;
	imageURL?: string;
	seed?: number;
	cost?: number;
	progress?: number;
	error?: { code?: string; message?: string };
	[key: string]: unknown;
}

export interface RunwareAnswer {
	data: RunwareDataItem[];
	errors: RunwareErrorItem[];
}

function headers(apiKey: string): Record<string, string> {
	return { authorization: `Bearer ${apiKey}`, accept: 'application/json', 'content-type': 'application/json', 'user-agent': USER_AGENT };
}

function cleanKey(endpoint: RunwareEndpoint): string {
	return checkedApiKey(endpoint.apiKey, 'invalidApiKey', {
		missing: 'Enter the Runware API key in the "Runware API" credential.',
		malformed: 'Copy the key again from the Runware dashboard.',
	});
}

/** `{data, errors}` of a 2xx answer, each kept only when it is a list of objects. */
function answerOf(json: unknown, operation: string, taskUUID: string | undefined): RunwareAnswer {
	if (!json || typeof json !== 'object' || Array.isArray(json)) {
		throw new ApiError({
			code: 'InvalidResponse',
			message: `Runware answered ${operation} with an unexpected shape (not an object)`,
			hint: hintFor('InvalidResponse', ''),
			operation,
			taskId: taskUUID,
			retryable: false,
		});
	}
	const data = (json as { data?: unknown }).data;
	return {
		data: Array.isArray(data) ? data.filter((item): item is RunwareDataItem => Boolean(item) && typeof item === 'object') : [],
		errors: errorItemsOf(json),
	};
}

/** Errors refusing this submit: those naming its taskUUID, or naming none (the request carries this one task). */
function errorsFor(answer: RunwareAnswer, taskUUID: string): RunwareErrorItem[] {
	return answer.errors.filter((error) => error.taskUUID === undefined || error.taskUUID === taskUUID);
}

const isConflict = (error: unknown) => error instanceof ApiError && error.code === 'conflictTaskUUID';

/**
 * Creates the task `taskUUID` (the body's one imageInference task, `deliveryMethod: "async"`).
 * `adopted` is set when the task was found to exist already (an earlier attempt of this submit created it).
 */
export async function submitInference(
	endpoint: RunwareEndpoint,
	taskUUID: string,
	body: StreamingJsonBody,
	opts: CallOptions = {},
): Promise<{ adopted?: 'task-uuid' }> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, RUNWARE.name, async () => {
		const url = checkBaseUrl(endpoint.url, 'The Runware base URL');
		let ambiguous = false;
		const outcome = await runCall<{ adopted?: 'task-uuid' }, string>({
			service: RUNWARE,
			operation: 'submitTask',
			mode: 'create',
			method: 'POST',
			url,
			headers: headers(apiKey),
			body,
			limiter: runwareLimiter('submit', endpoint),
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.submit,
			opts,
			secret: apiKey,
			taskId: taskUUID,
			submit: {
				track: (attempt) => attempt,
				// The taskUUID is ours: look it up. Found → adopt it (an exact match on the request's own ID, so
				// 'request-id', not a guess among candidates); Runware says it has no such task → a resend with the
				// same taskUUID (a task that appears meanwhile makes Runware answer conflictTaskUUID, UNCONFIRMED);
				// the lookup itself failed → nothing is known: report the taskUUID, never resend on a guess.
				reconcile: async () => {
					ambiguous = true;
					const lookup = await lookUpTask({ url, apiKey }, taskUUID, opts);
					if (lookup.kind === 'found') return { kind: 'adopt', task: taskUUID, how: 'request-id' };
					if (lookup.kind === 'absent') return { kind: 'none' };
					return { kind: 'uncertain', candidates: [taskUUID], reason: `looking it up failed (${lookup.reason})` };
				},
			},
			adopt: () => ({ adopted: 'task-uuid' }),
			onSuccess: async (res) => {
				const answer = answerOf(await readJsonAnswer(res, RUNWARE.name, 'submitTask', taskUUID), 'submitTask', taskUUID);
				const [refused] = errorsFor(answer, taskUUID);
				if (refused) {
					const error = errorFromItem(refused, res.statusCode, 'submitTask');
					error.taskId = taskUUID;
					// A refusal in the acknowledgement created nothing; a conflict means the task exists (adopted below).
					error.taskMayExist = isConflict(error);
					throw error;
				}
				return {};
			},
		}).then(
			(value) => ({ ok: true as const, value }),
			(error: unknown) => ({ ok: false as const, error }),
		);
		if (outcome.ok) return outcome.value;
		if (isConflict(outcome.error)) return { adopted: 'task-uuid' };
		throw submitFailure(outcome.error, taskUUID, ambiguous);
	});
}

/** A submit that failed: names its taskUUID, and says whether the task may exist (then it is a candidate). */
function submitFailure(error: unknown, taskUUID: string, ambiguous: boolean): unknown {
	if (!(error instanceof ApiError)) return error;
	error.taskId = taskUUID;
	// After an ambiguous attempt, a final network/5xx/429 failure cannot prove the task absent.
	if (ambiguous && (error.httpStatus === undefined || error.httpStatus === 408 || error.httpStatus === 429 || error.httpStatus >= 500)) {
		error.taskMayExist = true;
		error.retryable = false;
	}
	if (error.taskMayExist) {
		error.candidateTaskIds = [taskUUID];
		error.message = `${error.message} (task ${taskUUID} may have been created: collect it with "Wait for Task")`;
	}
	return error;
}

/**
 * What Runware says about `taskUUID` (a free getResponse with its own short budget, within the caller's
 * signal and deadline). `absent` only when Runware answered that it has no such task: a 2xx listing no
 * item of it and no other error, or `taskFailedOrNotFound`. A failed lookup (network, 5xx, 429, timeout,
 * an error naming no task) proves nothing: `failed`.
 */
async function lookUpTask(
	endpoint: RunwareEndpoint,
	taskUUID: string,
	opts: CallOptions,
): Promise<{ kind: 'found' } | { kind: 'absent' } | { kind: 'failed'; reason: string }> {
	try {
		const answer = await getResponse(endpoint, taskUUID, { signal: opts.signal, deadline: opts.deadline, timeoutMs: 10_000, retry: { maxAttempts: 2 } });
		if (answer.data.some((item) => item.taskUUID === taskUUID)) return { kind: 'found' };
		const other = answer.errors.find((error) => error.code !== 'taskFailedOrNotFound');
		return other ? { kind: 'failed', reason: `${other.code ?? 'Unknown'}: ${other.message ?? ''}` } : { kind: 'absent' };
	} catch (error) {
		if (error instanceof ApiError && error.code === 'taskFailedOrNotFound') return { kind: 'absent' };
		return { kind: 'failed', reason: error instanceof ApiError ? `${error.code}: ${error.message}` : String(error) };
	}
}

/** `[{taskType: "getResponse", taskUUID}]` → the task's cumulative `{data, errors}` (errors read on HTTP 200 too). */
export async function getResponse(endpoint: RunwareEndpoint, taskUUID: string, opts: CallOptions = {}): Promise<RunwareAnswer> {
	return getResponses(endpoint, [taskUUID], opts);
}

/**
 * One request, one getResponse task per taskUUID (`[{taskType: "getResponse", taskUUID: A}, {…B}, …]`) →
 * the answer as it came (items of every task, to be matched by taskUUID). With one taskUUID this is
 * getTask's read; with several, the batch look's. Several getResponse tasks in one body: §2 says a body
 * may carry several independent tasks, but that Runware answers each getResponse among them is
 * UNCONFIRMED (callers treat a task the answer does not name as not answered). A non-2xx answer throws,
 * as for one task (a 404 when Runware knows none of them).
 */
export async function getResponses(endpoint: RunwareEndpoint, taskUUIDs: readonly string[], opts: CallOptions = {}): Promise<RunwareAnswer> {
	const apiKey = cleanKey(endpoint);
	return scrubbing(apiKey, RUNWARE.name, async () => {
		const url = checkBaseUrl(endpoint.url, 'The Runware base URL');
		if (!taskUUIDs.length) throw usageError('A taskUUID is required');
		for (const taskUUID of taskUUIDs) if (typeof taskUUID !== 'string' || !taskUUID.trim()) throw usageError('A taskUUID is required');
		// Errors of a one-task read name its task; a batch read's name none of them (the answer is about several).
		const taskId = taskUUIDs.length === 1 ? taskUUIDs[0] : undefined;
		return runCall<RunwareAnswer>({
			service: RUNWARE,
			operation: 'getTask',
			mode: 'read',
			method: 'POST',
			url,
			headers: headers(apiKey),
			body: JSON.stringify(taskUUIDs.map((taskUUID) => ({ taskType: 'getResponse', taskUUID }))),
			limiter: runwareLimiter('query', endpoint),
			timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.poll,
			opts,
			secret: apiKey,
			taskId,
			onSuccess: async (res) => answerOf(await readJsonAnswer(res, RUNWARE.name, 'getTask', taskId), 'getTask', taskId),
		});
	});
}

export async function downloadResult(url: string, opts: CallOptions = {}): Promise<DownloadedResult> {
	return downloadResultUrl(url, opts, RUNWARE, {
		expiredHint:
			'The result URL was refused or has expired. Runware does not document how long result URLs live without "URL Lifetime": collect the task again with "Wait for Task" soon after it finishes, or set Runware Options › URL Lifetime.',
		timeoutMs: DEFAULT_TIMEOUTS.download,
	});
}
