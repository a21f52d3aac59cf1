/**
 * The shared result shape every service's task answer becomes (services/<id>/): the images produced,
 * the ones that failed, texts, timings. The wait loop, the task runner and the output code read only this.
 */
import type { TaskStatus } from '../transport/types';

export type { TaskStatus };

export interface ResultImage {
	/** 1-based position among the task's outputs (succeeded and failed alike). */
	index: number;
	url: string;
	/**
	 * The service sent the image's bytes in its answer: `url` is then only a handle its session's
	 * `downloadResult` opens. It is never shown, and the image is stored as binary data whatever the
	 * Output setting, since there is no URL to output instead.
	 */
	inline?: boolean;
	/**
	 * The service's facts about this one image (e.g. Runware's `cost`, its own `seed`), put on its output
	 * item (or its entry in `images` with all images on one item). They replace the task's fields for that
	 * image (its own seed); imageIndex, url and size stay the node's.
	 */
	fields?: Readonly<Record<string, string | number | boolean>>;
}

export interface FailedImage {
	index: number;
	code: string;
	message: string;
	/** Where the image can still be fetched by hand (a generated image whose download failed). */
	url?: string;
}

export interface TaskResult {
	taskId: string;
	status: TaskStatus;
	requestId: string;
	images: ResultImage[];
	failedImages: FailedImage[];
	/** Text parts of a 2.6 mixed (interleave) answer, in order. */
	texts: string[];
	/** The service's rewritten prompt (2.5/2.6 prompt rewriting). */
	actualPrompt?: string;
	usage?: Record<string, unknown>;
	/** Output size as the service reports it ("W*H"). */
	size?: string;
	submitTime?: string;
	scheduledTime?: string;
	endTime?: string;
	/** When the result URLs stop working: 24 h after the task ended, never later than 24 h from now. */
	urlsExpireAt: string;
	/** FAILED/CANCELED/UNKNOWN details. */
	code?: string;
	message?: string;
}

/** A validity period in words for messages: "24 hours", "1 hour", "30 minutes". */
export function validityText(ms: number): string {
	const hours = ms / 3_600_000;
	if (Number.isInteger(hours)) return `${hours} hour${hours === 1 ? '' : 's'}`;
	const minutes = Math.round(ms / 60_000);
	return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export const terminalStatuses: ReadonlySet<TaskStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN']);
/** Every status a task can report (a service's word outside these is not a status). */
export const taskStatuses: ReadonlySet<string> = new Set<TaskStatus>(['PENDING', 'RUNNING', 'SUSPENDED', ...terminalStatuses]);
