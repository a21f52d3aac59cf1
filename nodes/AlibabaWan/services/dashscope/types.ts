/** DashScope's wire shapes: endpoint, create routes, task answers and the task list (DASHSCOPE_API.md). */
import type { TaskStatus } from '../../transport/types';

/** Where to send a request and with which key. The key never leaves the service's session. */
export interface DashScopeEndpoint {
	/** `.../api/v1`, no trailing slash (see regions.ts resolveBaseUrl). */
	baseUrl: string;
	apiKey: string;
}

/** The two async create routes. */
export type SubmitRoute =
	| 'image-generation' // POST /services/aigc/image-generation/generation (2.7, 2.6)
	| 'image-synthesis'; // POST /services/aigc/image2image/image-synthesis (2.5)

export interface SubmitResult {
	taskId: string;
	taskStatus: TaskStatus;
	requestId: string;
	/** Set when the answer was lost and the task was found in the task list instead (see reconcile.ts). */
	adopted?: 'request-id' | 'only-candidate';
}

/** `GET /tasks/{id}` body (zod-validated; unknown keys kept). */
export interface TaskResponse {
	request_id: string;
	output: {
		task_id: string;
		task_status: TaskStatus;
		submit_time?: string;
		scheduled_time?: string;
		end_time?: string;
		finished?: boolean;
		code?: string;
		message?: string;
		/** 2.7 / 2.6 (messages protocol) */
		choices?: Array<{
			finish_reason?: string;
			message?: { role?: string; content?: Array<{ type?: string; image?: string; text?: string }> };
		}>;
		/** 2.5 (image-synthesis protocol); failed entries carry code/message instead of url */
		results?: Array<{ url?: string; orig_prompt?: string; actual_prompt?: string; code?: string; message?: string }>;
		task_metrics?: { TOTAL?: number; SUCCEEDED?: number; FAILED?: number };
		[key: string]: unknown;
	};
	usage?: { image_count?: number; size?: string; [key: string]: unknown };
	/** D27 shows FAILED details at top level too. */
	code?: string;
	message?: string;
}

export interface CancelResult {
	requestId: string;
}

/** `GET /tasks` filters (DashScope names in snake_case on the wire). Times are `YYYYMMDDhhmmss`. */
export interface ListTasksQuery {
	pageNo?: number;
	pageSize?: number;
	startTime?: string;
	endTime?: string;
	modelName?: string;
	status?: TaskStatus;
	apiKeyId?: string;
	region?: string;
}

export interface TaskListEntry {
	task_id: string;
	status?: string;
	model_name?: string;
	region?: string;
	request_id?: string;
	gmt_create?: string;
	start_time?: string;
	end_time?: string;
	[key: string]: unknown;
}

export interface ListTasksResult {
	requestId: string;
	tasks: TaskListEntry[];
	total?: number;
	totalPage?: number;
	pageNo?: number;
	pageSize?: number;
}
