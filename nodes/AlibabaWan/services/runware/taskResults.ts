/**
 * A getResponse answer → the shared task shape (RUNWARE_API.md §6). Items are matched by taskUUID, never
 * by position; failures are read from per-item `status: "error"` and from top-level `errors` naming this
 * task (also on HTTP 200; errors naming no task are a failed read, handled by the session). Anything but
 * `success`/`error` is still running. When a task is finished: see `parseResponse`.
 */
import type { FailedImage, ResultImage, TaskResult, TaskStatus } from '../../tasks/taskResults';
import type { RunwareAnswer } from './runwareApi';

export interface TaskFacts {
	/** The URL lifetime the submit asked for (ttl, seconds), when this session submitted it. */
	ttlSeconds?: number;
	/** "W*H" as submitted. */
	size?: string;
	/** `numberResults` as submitted: exact, or an image set's upper bound. */
	numberResults?: number;
	/** Images owed when the count is exact (not an image set). */
	requestedImages?: number;
	/** When this session's submit of the task answered (epoch ms). */
	submittedAt?: number;
}

/**
 * When a task is finished, by what is known of its count:
 * - exact (`requestedImages`, or this session's submit of a single-count task): every generation it owes
 *   has ended — §6: "done when the number of success items reaches numberResults";
 * - an image set's upper bound (§12.4: a set may be smaller) or no count at all (Wait for Task with a bare
 *   taskUUID): every listed generation has ended and the answer lists as many items as the previous look
 *   did, also with none in progress. §6 lists a generation `processing` while it runs, but nothing says
 *   one not yet started is listed (the Python SDK's mocks answer `{"data": []}` while a task runs), so
 *   one look with nothing in progress is not proof the set is complete; reaching the upper bound is.
 * `quietLook` (the items listed, when none was in progress) is handed back as `previousQuietLook` on the
 * task's next read.
 */

export function parseResponse(
	taskUUID: string,
	answer: RunwareAnswer,
	{
		requestedImages,
		urlLifetimeMs,
		facts = {},
		previousQuietLook,
		now = Date.now(),
	}: { requestedImages?: number; urlLifetimeMs: number; facts?: TaskFacts; previousQuietLook?: number; now?: number },
): { status: TaskStatus; result?: TaskResult; quietLook?: number } {
	const items = answer.data.filter((item) => item.taskUUID === taskUUID && item.taskType !== 'getResponse');
	const images: ResultImage[] = [];
	const failedImages: FailedImage[] = [];
	let running = 0;
	let index = 0;
	let cost = 0;
	let costed = false;
	for (const item of items) {
		index++;
		if (item.status === 'success' || (item.status === undefined && typeof item.imageURL === 'string')) {
			if (typeof item.imageURL !== 'string' || !item.imageURL) {
				failedImages.push({ index, code: 'NoImageURL', message: 'Runware reported success without an image URL' });
				continue;
			}
			const fields: Record<string, string | number | boolean> = {};
			if (typeof item.imageUUID === 'string') fields.imageUUID = item.imageUUID;
			if (typeof item.seed === 'number') fields.seed = item.seed;
			if (typeof item.cost === 'number') {
				fields.cost = item.cost;
				cost += item.cost;
				costed = true;
			}
			images.push({ index, url: item.imageURL, fields });
		} else if (item.status === 'error') {
			failedImages.push({ index, code: item.error?.code ?? 'Unknown', message: item.error?.message ?? '' });
		} else {
			running++;
		}
	}
	for (const error of answer.errors) {
		if (error.taskUUID !== taskUUID) continue;
		failedImages.push({ index: ++index, code: error.code ?? 'Unknown', message: error.message ?? '' });
	}
	if (running > 0 || index === 0) return { status: index === 0 ? 'PENDING' : 'RUNNING' };
	const exact = requestedImages ?? facts.requestedImages;
	if (exact !== undefined) {
		if (index < exact) return { status: 'RUNNING' };
	} else if (index < (facts.numberResults ?? Infinity) && previousQuietLook !== index) {
		return { status: 'RUNNING', quietLook: index };
	}

	const status: TaskStatus = images.length ? 'SUCCEEDED' : 'FAILED';
	const lifetimeMs = facts.ttlSeconds !== undefined ? facts.ttlSeconds * 1000 : urlLifetimeMs;
	return {
		status,
		result: {
			taskId: taskUUID,
			status,
			requestId: '',
			images,
			failedImages,
			texts: [],
			// Images produced (what is billed, as DashScope's usage.image_count) and, with Include Cost, their total.
			usage: { image_count: images.length, ...(costed ? { cost: Math.round(cost * 1e6) / 1e6 } : {}) },
			size: facts.size,
			urlsExpireAt: new Date(now + lifetimeMs).toISOString(),
			code: status === 'FAILED' ? failedImages[0]?.code : undefined,
			message: status === 'FAILED' ? failedImages[0]?.message : undefined,
		},
	};
}

/**
 * What a batch look's answer (several getResponse tasks in one request) shows of `taskUUID`: its status by
 * getTask's own reading (`parseResponse` on this task's items and errors), or undefined when the answer
 * does not cover the task, and the task is left to getTask:
 * - nothing in the answer names it (no item, no error): not answered (several getResponse tasks in one
 *   body is UNCONFIRMED), or nothing listed yet;
 * - an error names it `taskFailedOrNotFound`: whether that is "not shown yet" (PENDING) or UNKNOWN is
 *   getTask's call (it knows what this session just submitted);
 * - every listed generation ended but the count is not proven (an image set, a bare taskUUID): getTask's
 *   two agreeing reads decide; their state (`previousQuietLook`) is only read here, never written.
 * A terminal status comes without result: the caller reads the task (getTask) to collect it.
 * Errors naming no task are the caller's (a failed read).
 */
export function glanceAt(
	taskUUID: string,
	answer: RunwareAnswer,
	options: { urlLifetimeMs: number; facts?: TaskFacts; previousQuietLook?: number },
): TaskStatus | undefined {
	const own: RunwareAnswer = {
		data: answer.data.filter((item) => item.taskUUID === taskUUID),
		errors: answer.errors.filter((error) => error.taskUUID === taskUUID),
	};
	if (!own.data.length && !own.errors.length) return undefined;
	if (own.errors.some((error) => error.code === 'taskFailedOrNotFound')) return undefined;
	const { status, quietLook } = parseResponse(taskUUID, own, options);
	return quietLook === undefined ? status : undefined;
}
