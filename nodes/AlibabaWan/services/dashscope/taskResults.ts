/**
 * A DashScope task response → the shared TaskResult, whichever protocol produced it: `output.choices`
 * (2.7/2.6: every choice × every image item; text items kept) or `output.results` (2.5; failed
 * entries carry code/message instead of url). Partial failures are reported per image.
 */
import type { FailedImage, ResultImage, TaskResult } from '../../tasks/taskResults';
import { taskValidityMs } from './models';
import type { TaskResponse } from './types';

/**
 * `requestedImages`: how many images the task owes when `n` is an exact count (not the upper bound of
 * an image set or 2.6 mixed output). The choices[] family drops failed images silently, so each image
 * short of it is reported as failed (`ImageMissing`).
 */
export function parseTaskResult(response: TaskResponse, requestedImages?: number, now = Date.now()): TaskResult {
	const output = response.output;
	const images: ResultImage[] = [];
	const failedImages: FailedImage[] = [];
	const texts: string[] = [];
	let actualPrompt: string | undefined;
	let index = 0;

	for (const choice of output.choices ?? []) {
		for (const part of choice.message?.content ?? []) {
			const entry = part as { type?: string; image?: string; text?: string; code?: string; message?: string };
			if (typeof entry.image === 'string' && entry.image) {
				images.push({ index: ++index, url: entry.image });
			} else if (entry.code || entry.type === 'error') {
				failedImages.push({ index: ++index, code: entry.code ?? 'Unknown', message: entry.message ?? '' });
			} else if (typeof entry.text === 'string' && (entry.type === 'text' || entry.type === undefined)) {
				texts.push(entry.text);
			}
		}
	}
	for (const result of output.results ?? []) {
		if (result.url) {
			images.push({ index: ++index, url: result.url });
			actualPrompt ??= result.actual_prompt;
		} else {
			failedImages.push({ index: ++index, code: result.code ?? 'Unknown', message: result.message ?? '' });
		}
	}
	// task_metrics can report failures the result list does not spell out.
	const reportedFailed = output.task_metrics?.FAILED ?? 0;
	for (let missing = reportedFailed - failedImages.length; missing > 0; missing--) {
		failedImages.push({ index: ++index, code: 'Unknown', message: 'The service reported this image as failed' });
	}

	if (requestedImages && output.task_status === 'SUCCEEDED') {
		for (let missing = requestedImages - index; missing > 0; missing--) {
			failedImages.push({
				index: ++index,
				code: 'ImageMissing',
				message: `DashScope returned ${images.length} of the ${requestedImages} images requested (only produced images are billed)`,
			});
		}
	}

	const endMs = parseDashScopeTime(output.end_time);
	return {
		taskId: output.task_id,
		status: output.task_status,
		requestId: response.request_id,
		images,
		failedImages,
		texts,
		actualPrompt,
		usage: response.usage,
		size: typeof response.usage?.size === 'string' ? response.usage.size : undefined,
		submitTime: output.submit_time,
		scheduledTime: output.scheduled_time,
		endTime: output.end_time,
		// The service's time zone is undocumented (the emulator and Beijing use UTC+8): never promise
		// more than 24 h from when we saw the result.
		urlsExpireAt: new Date(Math.min(endMs ?? now, now) + taskValidityMs).toISOString(),
		code: output.code || response.code || undefined,
		message: output.message || response.message || undefined,
	};
}

/** "2026-03-26 17:16:22.961" (zone unstated; read as UTC) → epoch ms. */
export function parseDashScopeTime(value: string | undefined): number | undefined {
	if (!value) return undefined;
	const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
	return Number.isNaN(ms) ? undefined : ms;
}
