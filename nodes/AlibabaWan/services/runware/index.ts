/**
 * Runware behind the service interface: a credential → a session that builds `imageInference` tasks,
 * submits them async with a node-made taskUUID (never a second task: see runwareApi.ts), reads them with
 * getResponse through the shared wait loop, and downloads their result URLs. Runware has no cancel call.
 */
import { ApiError } from '../../transport/errors';
import { shouldRetry } from '../../transport/callRunner';
import type { ServiceRequest, TaskGlance, TaskSnapshot, WanService, WanSession } from '../types';
import { hintFor, type RunwareErrorItem } from './errors';
import { defaultUrlLifetimeMs, runwareDifferences, runwareModelIds, taskValidityMs } from './models';
import { runwareOptions } from './options';
import { buildInference, type RunwareRequest } from './requestBody';
import { DEFAULT_API_URL, downloadResult, getResponse, getResponses, runwareLimiter, submitInference, type RunwareEndpoint } from './runwareApi';
import { glanceAt, parseResponse, type TaskFacts } from './taskResults';

export interface RunwareCredentials {
	apiKey?: string;
	/** Optional override of https://api.runware.ai/v1 (the emulator, a proxy). */
	baseUrl?: string;
}

/**
 * How long after this session's submit a `taskFailedOrNotFound` is read as "not readable yet" (PENDING)
 * rather than "unknown": whether Runware shows a task the moment it acknowledged it is UNCONFIRMED (§6).
 */
const NEW_TASK_GRACE_MS = 30_000;

const cannotCancel =
	'Runware cannot cancel a task: once submitted it runs to the end and is billed if it succeeds. ' +
	'Collect its images with "Wait for Task" instead, or choose another service for this node.';

export const runwareService: WanService = {
	id: 'runware',
	displayName: 'Runware',
	shortName: 'Runware',
	credentialType: 'runwareApi',
	models: runwareModelIds,
	modelDifferences: runwareDifferences,
	options: runwareOptions,
	refusedOperations: { cancelTask: cannotCancel },
	taskValidityMs,
	imageUrlSchemes: ['http:', 'https:'],
	secretsOf: (credentials) => [String(credentials.apiKey ?? '').trim(), String(credentials.apiKey ?? '')],
	connect(raw) {
		const credentials = raw as RunwareCredentials;
		const endpoint: RunwareEndpoint = {
			url: String(credentials.baseUrl ?? '').trim() || DEFAULT_API_URL,
			apiKey: String(credentials.apiKey ?? '').trim(),
		};
		// What this session submitted: the request behind each ServiceRequest, and each task's facts.
		const requests = new WeakMap<ServiceRequest, RunwareRequest>();
		const facts = new Map<string, TaskFacts>();
		// Items listed at a task's last read with none in progress (taskResults.ts: when a task is finished).
		const quietLooks = new Map<string, number>();
		// getResponse answers whose errors named no task: a failed read, asked again (`isTransient`).
		const unattributedReads = new WeakSet<ApiError>();
		// Its message may echo the request (the key too): scrubbed, as every error of a call is (runwareApi.ts).
		const failedRead = (taskId: string | undefined, item: RunwareErrorItem): ApiError => {
			const error = unattributedReadError(taskId, item).scrubbed([endpoint.apiKey]);
			unattributedReads.add(error);
			return error;
		};
		const notFound = (taskId: string, message: string): TaskSnapshot => {
			const submittedAt = facts.get(taskId)?.submittedAt;
			if (submittedAt !== undefined && Date.now() - submittedAt < NEW_TASK_GRACE_MS) return { taskId, status: 'PENDING' };
			return { taskId, status: 'UNKNOWN', result: unknownResult(taskId, message) };
		};
		const session: WanSession = {
			service: runwareService,
			texts: {
				unknownTask: 'Runware does not know this taskUUID: it is wrong, belongs to another API key, or is too old to read',
				unknownTaskOnCancel: 'Runware does not know it',
				runningNotCancellable: 'Runware cannot cancel tasks',
			},
			cancellableStatuses: [],
			modelProblem: () => undefined,
			buildRequest(model, operation, parameters, images, options) {
				const built = buildInference(model, operation, parameters, images, options);
				const request: ServiceRequest = { model, operation, body: built.body, route: 'imageInference' };
				requests.set(request, built);
				return request;
			},
			async submitTask(request, opts) {
				const built = requests.get(request);
				if (!built)
					throw new ApiError({
						code: 'InvalidArgument',
						message: 'This request was not built by this Runware session',
						retryable: false,
						notSent: true,
					});
				const known: TaskFacts = { ttlSeconds: built.ttlSeconds, size: built.size, numberResults: built.numberResults, requestedImages: built.requestedImages };
				facts.set(built.taskUUID, known);
				const { adopted } = await submitInference(endpoint, built.taskUUID, built.body, opts);
				known.submittedAt = Date.now();
				return { taskId: built.taskUUID, status: 'PENDING', adopted };
			},
			async getTask(taskId, opts) {
				const { requestedImages, ...callOptions } = opts;
				const read = await getResponse(endpoint, taskId, callOptions).then(
					(value) => ({ ok: true as const, value }),
					(error: unknown) => ({ ok: false as const, error }),
				);
				if (!read.ok) {
					const { error } = read;
					// An unknown (or another key's) taskUUID is an answer about the task, not a failed read.
					if (error instanceof ApiError && error.code === 'taskFailedOrNotFound') return notFound(taskId, error.message);
					throw error;
				}
				const answer = read.value;
				const missing =
					answer.data.length === 0 && answer.errors.find((e) => e.code === 'taskFailedOrNotFound' && (e.taskUUID ?? taskId) === taskId);
				if (missing) return notFound(taskId, missing.message ?? '');
				// An error naming no task says nothing sure about this one (a billed task must not end FAILED on it).
				const unattributed = answer.errors.find((e) => e.taskUUID === undefined);
				if (unattributed) throw failedRead(taskId, unattributed);
				const { status, result, quietLook } = parseResponse(taskId, answer, {
					requestedImages,
					urlLifetimeMs: defaultUrlLifetimeMs,
					facts: facts.get(taskId),
					previousQuietLook: quietLooks.get(taskId),
				});
				if (quietLook === undefined) quietLooks.delete(taskId);
				else quietLooks.set(taskId, quietLook);
				return { taskId, status, result };
			},
			/**
			 * The batch look: one getResponse request for every task (§2: a body holds several tasks, matched by
			 * taskUUID; Runware answering several getResponse in one body is UNCONFIRMED, so a task the answer
			 * does not name is left out, not covered). Same limiter, key scrubbing and error mapping as getTask's
			 * read (the same code path). Each task is read by getTask's parsing (glanceAt); a terminal one comes
			 * without result, so getTask reads it and all its rules (agreeing reads for sets, the PENDING grace
			 * for new tasks, taskFailedOrNotFound → UNKNOWN) decide the end. getTask's state is not touched.
			 */
			async lookAtTasks(taskIds, opts) {
				const glances = new Map<string, TaskGlance>();
				const ids = [...new Set(taskIds)];
				if (!ids.length) return glances;
				const read = await getResponses(endpoint, ids, opts).then(
					(value) => ({ ok: true as const, value }),
					(error: unknown) => ({ ok: false as const, error }),
				);
				if (!read.ok) {
					// Runware knows none of them (or says so for the body): nothing covered; getTask reads each.
					if (read.error instanceof ApiError && read.error.code === 'taskFailedOrNotFound') return glances;
					throw read.error;
				}
				const answer = read.value;
				// An error naming no task may concern any of them: a failed read, asked again (as getTask's).
				const unattributed = answer.errors.find((e) => e.taskUUID === undefined);
				if (unattributed) throw failedRead(undefined, unattributed);
				for (const taskId of ids) {
					const status = glanceAt(taskId, answer, {
						urlLifetimeMs: defaultUrlLifetimeMs,
						facts: facts.get(taskId),
						previousQuietLook: quietLooks.get(taskId),
					});
					if (status !== undefined) glances.set(taskId, { taskId, status });
				}
				return glances;
			},
			async cancelTask() {
				throw new ApiError({ code: 'NotSupported', message: cannotCancel, service: 'Runware', retryable: false, notSent: true });
			},
			downloadResult: (url, opts) => downloadResult(url, opts),
			// The pace of the limiter the getResponse reads go through (lowered for a while after a 429).
			queryBudget: () => runwareLimiter('query', endpoint).ratePerSecond(),
			isTransient: (error) => error instanceof ApiError && (unattributedReads.has(error) || shouldRetry('read', error)),
			hintFor: (code, message) => hintFor(code, message),
		};
		return session;
	},
};

function unattributedReadError(taskId: string | undefined, item: RunwareErrorItem): ApiError {
	const code = typeof item.code === 'string' && item.code ? item.code : 'Unknown';
	const what = taskId === undefined ? 'the tasks are read again' : 'the task is read again';
	const message = `Runware answered the status read with an error naming no task (${code}: ${item.message ?? ''}); ${what}`;
	return new ApiError({ code, message, hint: hintFor(code, message), operation: 'getTask', taskId, service: 'Runware', retryable: true });
}

function unknownResult(taskId: string, message: string) {
	return {
		taskId,
		status: 'UNKNOWN' as const,
		requestId: '',
		images: [],
		failedImages: [],
		texts: [],
		urlsExpireAt: new Date().toISOString(),
		code: 'taskFailedOrNotFound',
		message,
	};
}
