/**
 * DashScope API handlers: auth, header gates, create (async + sync), task query, cancel, list,
 * upload policy, OSS form upload and result downloads. The HTTP layer (server.ts) parses requests,
 * applies arrival-stage faults and records everything; these handlers return a Reply.
 */
import { randomUUID } from 'node:crypto';

import { ApiError, MSG, defaultCodeForStatus, defaultMessageForCode, invalidParameter, statusForTaskCode } from './errors';
import { CONCURRENT_TASKS, findModel, regionAllowsSync, regionAllowsUploads, type CreateRoute } from './models';
import { formatTimestamp, producedImages, sseFrames, syncBody, taskQueryBody } from './responses';
import { ossErrorXml, parseResultPath } from './results';
import type { EmulatorState } from './state';
import type { TaskOutcome, TaskRecord } from './tasks';
import type { FaultAction, RegionId, RequestKind, TaskStatus } from './types';
import { resolveModel, validateCreate } from './validation';

export type Reply =
	| { type: 'json'; status: number; body: Record<string, unknown>; headers?: Record<string, string> }
	| { type: 'raw'; status: number; body: Buffer | string; contentType: string; headers?: Record<string, string> }
	| { type: 'sse'; frames: string[] }
	| { type: 'destroy' };

export interface ApiRequest {
	kind: RequestKind;
	method: string;
	url: URL;
	region?: RegionId;
	route?: CreateRoute;
	taskId?: string;
	headers: Record<string, string>;
	rawBody: Buffer;
	/** Parsed JSON, or `parseError` set. */
	body: unknown;
	parseError: boolean;
	requestId: string;
}

const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN'];

export function errorReply(requestId: string, err: ApiError): Reply {
	return {
		type: 'json',
		status: err.status,
		body: { request_id: requestId, code: err.code, message: err.message },
		headers: err.headers,
	};
}

/** Reply for an injected `http` / `http-after-accept` fault. */
export function faultReply(requestId: string, action: Extract<FaultAction, { type: 'http' | 'http-after-accept' }>, kind: RequestKind): Reply {
	const code = action.code ?? defaultCodeForStatus(action.status);
	const message = action.message ?? defaultMessageForCode(code);
	const headers: Record<string, string> = {};
	if (action.retryAfterSeconds !== undefined) headers['retry-after'] = String(action.retryAfterSeconds);
	if (kind === 'result' || kind === 'upload') {
		return { type: 'raw', status: action.status, body: ossErrorXml(code, message), contentType: 'application/xml', headers };
	}
	return { type: 'json', status: action.status, body: { request_id: requestId, code, message }, headers };
}

export class DashScopeApi {
	constructor(private readonly state: EmulatorState) {}

	async handle(req: ApiRequest): Promise<Reply> {
		try {
			switch (req.kind) {
				case 'submit':
				case 'sync':
					return await this.create(req);
				case 'query':
					return this.query(req);
				case 'cancel':
					return this.cancel(req);
				case 'list':
					return this.list(req);
				case 'upload-policy':
					return this.uploadPolicy(req);
				case 'upload':
					return this.upload(req);
				case 'result':
					return await this.result(req);
				default:
					throw new ApiError(404, 'InvalidParameter', MSG.urlError);
			}
		} catch (err) {
			if (err instanceof ApiError) return errorReply(req.requestId, err);
			throw err;
		}
	}

	// ------------------------------------------------------------ auth

	private authenticate(req: ApiRequest): string {
		const header = req.headers.authorization;
		const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
		if (!m) throw new ApiError(401, 'InvalidApiKey', MSG.noApiKey);
		const region = this.state.keys.get(m[1]);
		// Keys are per region: a key of another region is simply invalid there (§1).
		if (region === undefined || region !== req.region) throw new ApiError(401, 'InvalidApiKey', MSG.invalidApiKey);
		return m[1];
	}

	// ------------------------------------------------------------ create

	private async create(req: ApiRequest): Promise<Reply> {
		const apiKey = this.authenticate(req);
		const region = req.region as RegionId;
		const route = req.route as CreateRoute;
		const asyncHeader = (req.headers['x-dashscope-async'] ?? '').trim().toLowerCase() === 'enable';
		if (route === 'sync-generation') {
			// Frankfurt is async-only: a sync call there is a "synchronous call" the API does not support.
			if (!regionAllowsSync(region)) throw new ApiError(403, 'AccessDenied', MSG.asyncRequired);
			if (asyncHeader) throw new ApiError(403, 'AccessDenied', MSG.syncOnly);
		} else if (!asyncHeader) {
			throw new ApiError(403, 'AccessDenied', MSG.asyncRequired);
		}
		const contentType = (req.headers['content-type'] ?? '').toLowerCase();
		if (!contentType.startsWith('application/json')) {
			// UNCONFIRMED: the docs always send Content-Type: application/json; anything else is rejected.
			throw invalidParameter('Content-Type must be application/json.');
		}
		if (req.parseError) throw invalidParameter('The request body is not valid JSON.');
		if (req.rawBody.length === 0) throw invalidParameter('The request body is empty.');

		const spec = resolveModel(req.body, route, region);
		const now0 = this.state.now();
		const job = await validateCreate(req.body as Record<string, unknown>, spec, {
			route,
			region,
			headers: req.headers,
			images: { lookupOss: (url) => this.state.uploads.lookup(url, apiKey, spec.id, now0) },
		});

		// Limits (per account = key, and model). Only valid requests count (UNCONFIRMED: the real gateway may count attempts).
		const now = this.state.now();
		const bucket = `${apiKey}\u0000${spec.id}`;
		const rate = this.state.submitLimiter.check(bucket, now);
		if (!rate.allowed) {
			throw new ApiError(429, 'Throttling.RateQuota', MSG.rateQuota, { 'retry-after': String(rate.retryAfterSeconds) });
		}
		if (req.kind === 'submit' && this.state.concurrencyPolicy === 'reject') {
			if (this.state.tasks.activeCount(apiKey, spec.id, now) >= CONCURRENT_TASKS) {
				const next = this.state.tasks.nextSlotAt(apiKey, spec.id, now);
				const retry = Math.max(1, Math.ceil(((next ?? now + 1000) - now) / 1000));
				// UNCONFIRMED: whether a 6th concurrent task is queued or rejected, and with which code.
				throw new ApiError(
					429,
					'Throttling',
					`Requests throttling triggered: at most ${CONCURRENT_TASKS} tasks of this model may run concurrently.`,
					{ 'retry-after': String(retry) },
				);
			}
		}

		const fault = this.state.faults.take('accept', { kind: req.kind, model: spec.id });
		if (fault?.type === 'moderation' && (fault.stage ?? 'submit') === 'submit') {
			throw new ApiError(400, fault.code, fault.code === 'DataInspectionFailed' ? MSG.inputInspection : MSG.ipInfringement);
		}
		this.state.submitLimiter.record(bucket, now);

		const task: TaskRecord = {
			id: randomUUID(),
			mode: req.kind === 'submit' ? 'async' : 'sync',
			apiKey,
			region,
			model: spec.id,
			submitAt: now,
			pendingMs: req.kind === 'submit' ? this.state.timing.pendingMs : 0,
			runningMs: req.kind === 'submit' ? (runningMsFromPrompt(job.prompt) ?? this.state.timing.runningMs) : this.state.timing.syncDelayMs,
			job,
			request: req.body,
			outcome: outcomeFor(fault, job.imageCount),
			requestId: req.requestId,
		};
		this.state.tasks.add(task);

		if (req.kind === 'submit') {
			const c = this.state.counters;
			c.submissions += 1;
			c.submissionsByKey[apiKey] = (c.submissionsByKey[apiKey] ?? 0) + 1;
			c.submissionsByModel[spec.id] = (c.submissionsByModel[spec.id] ?? 0) + 1;
			const ambiguous = afterAccept(fault, req);
			if (ambiguous) return ambiguous;
			return { type: 'json', status: 200, body: { request_id: req.requestId, output: { task_id: task.id, task_status: 'PENDING' } } };
		}

		// Sync: the answer comes when the generation is done.
		await this.state.sleep(task.runningMs);
		this.state.counters.syncAccepted += 1;
		const ambiguous = afterAccept(fault, req);
		if (ambiguous) return ambiguous;
		if (task.outcome.status === 'FAILED') {
			const code = task.outcome.code as string;
			throw new ApiError(statusForTaskCode(code), code, task.outcome.message as string);
		}
		const urlFor = (t: TaskRecord, i: number): string => this.state.resultUrl(t, i);
		if (job.interleave) return { type: 'sse', frames: sseFrames(task, urlFor, req.requestId) };
		return { type: 'json', status: 200, body: { ...syncBody(task, urlFor), request_id: req.requestId } };
	}

	// ------------------------------------------------------------ query / cancel / list

	private visibleTask(req: ApiRequest, apiKey: string): TaskRecord | undefined {
		const task = req.taskId ? this.state.tasks.get(req.taskId) : undefined;
		// Tasks belong to the account (emulator key) and region that created them; sync calls have no task API.
		if (!task || task.mode !== 'async' || task.apiKey !== apiKey || task.region !== req.region) return undefined;
		if (this.state.tasks.isExpired(task, this.state.now())) return undefined;
		return task;
	}

	private query(req: ApiRequest): Reply {
		const apiKey = this.authenticate(req);
		const now = this.state.now();
		const rate = this.state.queryLimiter.take(apiKey, now);
		if (!rate.allowed) {
			throw new ApiError(429, 'Throttling.RateQuota', MSG.rateQuota, { 'retry-after': String(rate.retryAfterSeconds) });
		}
		const task = this.visibleTask(req, apiKey);
		if (!task) {
			// Unknown ids and tasks older than 24 h read UNKNOWN (D27, D26), HTTP 200.
			return { type: 'json', status: 200, body: { request_id: req.requestId, output: { task_id: req.taskId, task_status: 'UNKNOWN' } } };
		}
		const times = this.state.tasks.timesAt(task, now);
		const body = taskQueryBody(task, times, (t, i) => this.state.resultUrl(t, i));
		return { type: 'json', status: 200, body: { request_id: req.requestId, ...body } };
	}

	private cancel(req: ApiRequest): Reply {
		const apiKey = this.authenticate(req);
		const now = this.state.now();
		const task = this.visibleTask(req, apiKey);
		const status = task ? this.state.tasks.timesAt(task, now).status : 'UNKNOWN';
		if (!task || status !== 'PENDING') {
			// UNCONFIRMED placeholder: the real code for a non-PENDING cancel is unknown (§5.8).
			throw new ApiError(
				400,
				'UnsupportedOperation',
				`Failed to cancel the task ${req.taskId}: only tasks in PENDING status can be canceled (current status: ${status}).`,
			);
		}
		this.state.tasks.cancel(task, now);
		// Cancel 200 body is undocumented; the SDKs only need request_id.
		return { type: 'json', status: 200, body: { request_id: req.requestId } };
	}

	private list(req: ApiRequest): Reply {
		const apiKey = this.authenticate(req);
		// The 20/s query limit's scope is UNCONFIRMED (§12.7): the strict reading counts list reads in it too.
		const rate = this.state.queryLimiter.take(apiKey, this.state.now());
		if (!rate.allowed) {
			throw new ApiError(429, 'Throttling.RateQuota', MSG.rateQuota, { 'retry-after': String(rate.retryAfterSeconds) });
		}
		const q = req.url.searchParams;
		const pageNo = intParam(q.get('page_no'), 'page_no', 1, 1, Number.MAX_SAFE_INTEGER);
		const pageSize = intParam(q.get('page_size'), 'page_size', 10, 1, 100);
		const start = timeParam(q.get('start_time'), 'start_time');
		const end = timeParam(q.get('end_time'), 'end_time');
		const modelName = q.get('model_name') || undefined;
		const statusFilter = q.get('status') || undefined;
		if (statusFilter && !TASK_STATUSES.includes(statusFilter as TaskStatus)) {
			throw invalidParameter(`Parameter status must be one of ${TASK_STATUSES.join(', ')}.`);
		}
		const now = this.state.now();
		// The list may show tasks as they were a while ago (timing.listLagMs), never before they existed.
		const seenAt = now - this.state.timing.listLagMs;
		const rows = this.state.tasks
			.all()
			.filter((t) => t.mode === 'async' && t.apiKey === apiKey && t.region === req.region && !this.state.tasks.isExpired(t, now))
			.filter((t) => (start === undefined || t.submitAt >= start) && (end === undefined || t.submitAt <= end))
			.filter((t) => modelName === undefined || t.model === modelName)
			.map((t) => ({ task: t, times: this.state.tasks.timesAt(t, Math.max(seenAt, t.submitAt)) }))
			.filter((r) => statusFilter === undefined || r.times.status === statusFilter)
			.sort((a, b) => b.task.submitAt - a.task.submitAt);
		const data = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize).map(({ task, times }) => ({
			task_id: task.id,
			status: times.status,
			model_name: task.model,
			region: task.region,
			api_key_id: apiKeyId(task.apiKey),
			request_id: task.requestId,
			gmt_create: formatTimestamp(task.submitAt),
			start_time: times.scheduledAt !== undefined ? formatTimestamp(times.scheduledAt) : null,
			end_time: times.endAt !== undefined ? formatTimestamp(times.endAt) : null,
			caller_uid: '1000000000000000',
			caller_parent_id: '1000000000000000',
			user_api_unique_key: `apikey:v1:${apiKeyId(task.apiKey)}`,
		}));
		return {
			type: 'json',
			status: 200,
			body: {
				request_id: req.requestId,
				data,
				total: rows.length,
				total_page: Math.ceil(rows.length / pageSize),
				page_no: pageNo,
				page_size: pageSize,
			},
		};
	}

	// ------------------------------------------------------------ uploads

	private uploadPolicy(req: ApiRequest): Reply {
		const apiKey = this.authenticate(req);
		const region = req.region as RegionId;
		if (req.url.searchParams.get('action') !== 'getPolicy') throw invalidParameter('Parameter action must be getPolicy.');
		const model = req.url.searchParams.get('model');
		if (!model) throw new ApiError(400, 'BadRequest.EmptyModel', MSG.emptyModel);
		if (!findModel(model)) throw new ApiError(404, 'ModelNotFound', MSG.modelNotExist);
		if (!regionAllowsUploads(region)) {
			// UNCONFIRMED: temporary uploads are documented for Beijing and Singapore only; strict elsewhere.
			throw new ApiError(403, 'AccessDenied', `Temporary file upload is not available in region ${region}.`);
		}
		const data = this.state.uploads.createPolicy(this.state.origin, region, apiKey, model, this.state.now());
		return { type: 'json', status: 200, body: { request_id: req.requestId, data } };
	}

	private upload(req: ApiRequest): Reply {
		const answer = this.state.uploads.upload(req.headers['content-type'], req.rawBody, this.state.now());
		if (answer.xml) return { type: 'raw', status: answer.status, body: answer.xml, contentType: 'application/xml' };
		return { type: 'raw', status: answer.status, body: '', contentType: 'text/plain' };
	}

	// ------------------------------------------------------------ results

	private async result(req: ApiRequest): Promise<Reply> {
		const xml = (status: number, code: string, message: string, extra: Record<string, string> = {}): Reply => ({
			type: 'raw',
			status,
			body: ossErrorXml(code, message, extra),
			contentType: 'application/xml',
		});
		const path = req.url.pathname;
		const parsed = parseResultPath(path);
		if (!parsed) return xml(404, 'NoSuchKey', 'The specified key does not exist.');
		const expires = req.url.searchParams.get('Expires');
		if (!this.state.signer.verify(path, expires, req.url.searchParams.get('Signature'))) {
			return xml(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
		}
		const now = this.state.now();
		if (Number(expires) * 1000 < now) {
			return xml(403, 'AccessDenied', 'Request has expired.', {
				Expires: new Date(Number(expires) * 1000).toISOString(),
				ServerTime: new Date(now).toISOString(),
			});
		}
		const task = this.state.tasks.get(parsed.taskId);
		if (!task || task.region !== parsed.region || this.state.tasks.timesAt(task, now).status !== 'SUCCEEDED' || parsed.index >= producedImages(task)) {
			return xml(404, 'NoSuchKey', 'The specified key does not exist.');
		}
		const png = await this.state.pngCache.get(`${task.id}/${parsed.index}`, {
			width: task.job.width,
			height: task.job.height,
			seed: task.job.seed,
			prompt: task.job.prompt,
			index: parsed.index,
			imageCount: task.job.imageCount,
			model: task.job.model.id,
			inputs: task.job.inputs,
			boxes: task.job.boxes,
			watermark: task.job.watermark,
		});
		return {
			type: 'raw',
			status: 200,
			body: png,
			contentType: 'image/png',
			headers: { etag: `"${task.id.replace(/-/g, '').slice(0, 16).toUpperCase()}${parsed.index}"`, 'x-oss-object-type': 'Normal' },
		};
	}
}

/** Planned outcome of a new task from an accept-stage fault. */
function outcomeFor(fault: FaultAction | undefined, imageCount: number): TaskOutcome {
	if (fault?.type === 'fail-task') {
		const code = fault.code ?? 'InternalError.Algo';
		return { status: 'FAILED', code, message: fault.message ?? defaultMessageForCode(code), failedImages: imageCount };
	}
	if (fault?.type === 'moderation') {
		return {
			status: 'FAILED',
			code: fault.code,
			message: fault.code === 'DataInspectionFailed' ? MSG.outputInspection : MSG.ipInfringement,
			failedImages: imageCount,
		};
	}
	if (fault?.type === 'partial') {
		const code = fault.code ?? 'InternalError.Algo';
		const message = fault.message ?? 'Image generation failed for this item.';
		if (fault.failed >= imageCount) return { status: 'FAILED', code, message, failedImages: imageCount };
		return { status: 'SUCCEEDED', failedImages: fault.failed, failedCode: code, failedMessage: message };
	}
	return { status: 'SUCCEEDED', failedImages: 0 };
}

/** The "ambiguous" answers: the work was accepted but the client never learns it. */
function afterAccept(fault: FaultAction | undefined, req: ApiRequest): Reply | undefined {
	if (fault?.type === 'reset-after-accept') return { type: 'destroy' };
	if (fault?.type === 'http-after-accept') return faultReply(req.requestId, fault, req.kind);
	return undefined;
}

function intParam(raw: string | null, name: string, fallback: number, min: number, max: number): number {
	if (raw === null || raw === '') return fallback;
	if (!/^\d+$/.test(raw)) throw invalidParameter(`Parameter ${name} must be an integer.`);
	const value = Number(raw);
	if (value < min || value > max) throw invalidParameter(`Parameter ${name} must be in [${min}, ${max}].`);
	return value;
}

/** `YYYYMMDDhhmmss` in the service zone (UTC+8, as formatTimestamp). */
function timeParam(raw: string | null, name: string): number | undefined {
	if (raw === null || raw === '') return undefined;
	const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw);
	if (!m) throw invalidParameter(`Parameter ${name} must be formatted YYYYMMDDhhmmss.`);
	const [, y, mo, d, h, mi, s] = m.map(Number);
	return Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3600 * 1000;
}

function apiKeyId(apiKey: string): string {
	let h = 0;
	for (const ch of apiKey) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
	return String(100000 + (h % 900000));
}

/**
 * Test control for benchmarks with tasks of different lengths: a prompt containing
 * `[emulator:running-ms=N]` makes that async task run N ms instead of timing.runningMs. The real
 * service would treat the token as prompt text; only the emulator reads it.
 */
const RUNNING_MS_TOKEN = /\[emulator:running-ms=(\d{1,7})\]/;

function runningMsFromPrompt(prompt: string): number | undefined {
	const m = RUNNING_MS_TOKEN.exec(prompt);
	return m ? Number(m[1]) : undefined;
}
