/**
 * A getResponse answer → the shared task shape (RUNWARE_API.md §6). Items are matched by taskUUID, never
 * by position; failures are read from per-item `status: "error"` and from top-level `errors` (also on
 * HTTP 200). Anything but `success`/`error` is still running. A task is finished when every generation
 * it owes has ended: `requestedImages` when the count is exact, else every item the answer lists.
 */
import type { FailedImage, ResultImage, TaskResult, TaskStatus } from '../../tasks/taskResults';
import type { RunwareAnswer } from './runwareApi';
import { errorsFor } from './runwareApi';

export interface TaskFacts {
	/** The URL lifetime the submit asked for (ttl, seconds), when this session submitted it. */
	ttlSeconds?: number;
	/** "W*H" as submitted. */
	size?: string;
}

export function parseResponse(
	taskUUID: string,
	answer: RunwareAnswer,
	{
		requestedImages,
		urlLifetimeMs,
		facts = {},
		now = Date.now(),
	}: { requestedImages?: number; urlLifetimeMs: number; facts?: TaskFacts; now?: number },
): { status: TaskStatus; result?: TaskResult } {
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
	for (const error of errorsFor(answer, taskUUID)) {
		failedImages.push({ index: ++index, code: error.code ?? 'Unknown', message: error.message ?? '' });
	}
	const owed = requestedImages ?? index;
	if (running > 0 || index === 0 || index < owed) return { status: index === 0 ? 'PENDING' : 'RUNNING' };

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
