/**
 * DashScope (Alibaba Cloud Model Studio) behind the service interface: a credential → a session that
 * builds its request bodies, submits (never twice; see reconcile.ts), polls, cancels queued tasks and
 * downloads results, all through dashScopeApi.ts.
 */
import { modelIds } from '../../catalog/modelCatalog';
import { taskStatuses, terminalStatuses } from '../../tasks/taskResults';
import { ApiError } from '../../transport/errors';
import type { TaskGlance, TaskStatus, WanService, WanSession } from '../types';
import { shouldRetry } from '../../transport/callRunner';
import { cancelTask, downloadResult, getTask, listTasks, submitTask } from './dashScopeApi';
import { hintFor } from './errors';
import { dashScopeModels, taskValidityMs } from './models';
import { regions, resolveBaseUrl, type DashScopeCredentials } from './regions';
import { buildRequestBody } from './requestBody';
import { parseDashScopeTime, parseTaskResult } from './taskResults';
import { getLimiter } from '../../transport/rateLimit';

/** Tasks a batch look reads from the list (the emulator's largest page; DashScope's is UNCONFIRMED). */
const LOOK_PAGE_SIZE = 100;

export const dashScopeService: WanService = {
	id: 'dashscope',
	displayName: 'DashScope — Alibaba Cloud Model Studio',
	shortName: 'DashScope',
	credentialType: 'alibabaDashScopeApi',
	models: modelIds,
	taskValidityMs,
	// oss:// paths are DashScope's temporary uploads (sent with X-DashScope-OssResourceResolve).
	imageUrlSchemes: ['http:', 'https:', 'oss:'],
	secretsOf: (credentials) => [String(credentials.apiKey ?? '').trim(), String(credentials.apiKey ?? '')],
	connect(raw) {
		const credentials = raw as unknown as DashScopeCredentials;
		const endpoint = { baseUrl: resolveBaseUrl(credentials), apiKey: String(credentials.apiKey ?? '').trim() };
		const region = credentials.region;
		const session: WanSession = {
			service: dashScopeService,
			location: region,
			texts: {
				unknownTask: 'DashScope does not know this task: task IDs expire after 24 hours, or the ID is wrong or from another region',
				unknownTaskOnCancel: 'DashScope does not know it (task IDs expire after 24 hours, or it belongs to another region)',
				runningNotCancellable: 'it is already running; DashScope can only cancel tasks that are still queued',
			},
			cancellableStatuses: ['PENDING'],
			modelProblem(model) {
				const served = dashScopeModels[model.id].regions;
				if (served.includes(region)) return undefined;
				return (
					`${model.displayName} is not served in ${regions[region].displayName}. ` +
					`Regions serving it: ${served.map((id) => regions[id].displayName).join(', ')} — use a credential for one of them.`
				);
			},
			// DashScope has no options of its own (the fifth argument).
			buildRequest(model, operation, parameters, images) {
				const route = dashScopeModels[model.id].submitRoute;
				return { model, operation, route, body: buildRequestBody(model, operation, parameters, images) };
			},
			async submitTask(request, opts) {
				const submitted = await submitTask(endpoint, dashScopeModels[request.model.id].submitRoute, request.body, {
					...opts,
					model: request.model.id,
				});
				return {
					taskId: submitted.taskId,
					status: submitted.taskStatus,
					requestId: submitted.requestId,
					adopted: submitted.adopted,
				};
			},
			async getTask(taskId, opts) {
				const { requestedImages, ...callOptions } = opts;
				const response = await getTask(endpoint, taskId, callOptions);
				const output = response.output;
				const status = output.task_status;
				return {
					taskId,
					status,
					requestId: response.request_id,
					result: terminalStatuses.has(status) ? parseTaskResult(response, requestedImages) : undefined,
					// scheduled_time is when the task started running (DASHSCOPE_API.md §5.4).
					submittedAt: parseDashScopeTime(output.submit_time),
					startedAt: parseDashScopeTime(output.scheduled_time),
					endedAt: parseDashScopeTime(output.end_time),
				};
			},
			/**
			 * A batch look is one read of the task list (its newest LOOK_PAGE_SIZE tasks): the list reports each
			 * task's status and times (DASHSCOPE_API.md §5.8). Its order, largest page and freshness are
			 * UNCONFIRMED: a task not on the page is left out (the scheduler reads it on its own), an ended one
			 * is then read for its result, and the scheduler still reads covered tasks now and then.
			 */
			async lookAtTasks(taskIds, opts) {
				const wanted = new Set(taskIds);
				const listed = await listTasks(endpoint, { pageNo: 1, pageSize: LOOK_PAGE_SIZE }, opts);
				const glances = new Map<string, TaskGlance>();
				for (const entry of listed.tasks) {
					const status = entry.status as TaskStatus;
					if (!wanted.has(entry.task_id) || !taskStatuses.has(status)) continue;
					glances.set(entry.task_id, {
						taskId: entry.task_id,
						status,
						submittedAt: parseDashScopeTime(entry.gmt_create ?? undefined),
						startedAt: parseDashScopeTime(entry.start_time ?? undefined),
						endedAt: parseDashScopeTime(entry.end_time ?? undefined),
					});
				}
				return glances;
			},
			async cancelTask(taskId, opts) {
				return await cancelTask(endpoint, taskId, opts);
			},
			downloadResult: (url, opts) => downloadResult(url, opts),
			// The per-account query limiter's current rate (20/s, lowered for a while after a 429).
			queryBudget: () => getLimiter('query', endpoint.baseUrl, endpoint.apiKey).ratePerSecond(),
			isTransient: (error) => error instanceof ApiError && shouldRetry('read', error),
			hintFor: (code, message) => hintFor(code, message),
		};
		return session;
	},
};
