/**
 * Response bodies exactly as documented: task query (§5.4, §5.7), sync answer (§5.1), SSE events
 * (§5.2) and task-list items (§5.8). Field names and nesting follow the official examples.
 */
import type { TaskRecord, TaskTimes } from './tasks';

type Json = Record<string, unknown>;

/** Builds the signed URL of image `index` of a task. */
export type UrlFor = (task: TaskRecord, index: number) => string;

/** `YYYY-MM-DD HH:mm:ss.SSS`. The zone is unstated in the docs (UNCONFIRMED): UTC+8, the service's home zone. */
export function formatTimestamp(ms: number): string {
	const d = new Date(ms + 8 * 3600 * 1000);
	const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
	return (
		`${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
		`${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
	);
}

export function producedImages(task: TaskRecord): number {
	if (task.outcome.status !== 'SUCCEEDED') return 0;
	return Math.max(0, task.job.imageCount - task.outcome.failedImages);
}

/** `output` + `usage` of GET /tasks/{id}. */
export function taskQueryBody(task: TaskRecord, times: TaskTimes, urlFor: UrlFor): { output: Json; usage?: Json } {
	const output: Json = {
		task_id: task.id,
		task_status: times.status,
		submit_time: formatTimestamp(task.submitAt),
	};
	if (times.scheduledAt !== undefined) output.scheduled_time = formatTimestamp(times.scheduledAt);
	if (times.endAt !== undefined) output.end_time = formatTimestamp(times.endAt);
	const synthesis = task.job.model.protocol === 'synthesis';
	const total = task.job.imageCount;

	if (times.status === 'SUCCEEDED') {
		if (synthesis) {
			output.results = synthesisResults(task, urlFor);
			output.task_metrics = { TOTAL: total, SUCCEEDED: producedImages(task), FAILED: task.outcome.failedImages };
			return { output, usage: { image_count: producedImages(task) } };
		}
		output.finished = true;
		output.choices = messageChoices(task, urlFor);
		return { output, usage: messagesUsage(task) };
	}
	if (times.status === 'FAILED') {
		// FAILED details live in output (both SDKs model output.code/message).
		output.code = task.outcome.code;
		output.message = task.outcome.message;
		if (synthesis) output.task_metrics = { TOTAL: total, SUCCEEDED: 0, FAILED: total };
		return { output };
	}
	if (synthesis && (times.status === 'PENDING' || times.status === 'RUNNING')) {
		output.task_metrics = { TOTAL: total, SUCCEEDED: 0, FAILED: 0 };
	}
	return { output };
}

/** 2.5 results: successful items carry url (+ actual_prompt when prompt_extend ran); failed ones code/message. */
function synthesisResults(task: TaskRecord, urlFor: UrlFor): Json[] {
	const ok = producedImages(task);
	const items: Json[] = [];
	for (let i = 0; i < task.job.imageCount; i++) {
		if (i < ok) {
			const item: Json = { orig_prompt: task.job.prompt };
			if (task.job.promptExtend) item.actual_prompt = actualPrompt(task.job.prompt);
			item.url = urlFor(task, i);
			items.push(item);
		} else {
			items.push({ code: task.outcome.failedCode ?? 'InternalError.Algo', message: task.outcome.failedMessage ?? 'Image generation failed.' });
		}
	}
	return items;
}

/** Deterministic stand-in for the prompt rewriter. */
export function actualPrompt(prompt: string): string {
	return `${prompt.trim()} Highly detailed, natural lighting, balanced composition, sharp focus.`;
}

/**
 * choices[]: 2.7 set mode = one choice holding every image; 2.6 interleave = one choice with text and
 * image items; otherwise one choice per image (documented for 2.6 n=2; UNCONFIRMED for 2.7 n>1 with
 * set mode off). Partial failure in this family is undocumented (UNCONFIRMED): failed images are left
 * out, so the client sees fewer images and a smaller usage.image_count.
 */
export function messageChoices(task: TaskRecord, urlFor: UrlFor): Json[] {
	const ok = producedImages(task);
	const images = Array.from({ length: ok }, (_, i) => ({ image: urlFor(task, i), type: 'image' }));
	const choice = (content: Json[]): Json => ({ finish_reason: 'stop', message: { role: 'assistant', content } });
	if (task.job.sequential) return [choice(images)];
	if (task.job.interleave) {
		const content: Json[] = [];
		images.forEach((img, i) => {
			content.push({ type: 'text', text: interleaveText(task, i) });
			content.push(img);
		});
		return [choice(content)];
	}
	return images.map((img) => choice([img]));
}

function interleaveText(task: TaskRecord, i: number): string {
	return `Step ${i + 1}: ${task.job.prompt.slice(0, 60)}`;
}

export function messagesUsage(task: TaskRecord): Json {
	const count = producedImages(task);
	const is27 = task.job.model.id !== 'wan2.6-image';
	// Tokens are informational (0 on 2.6); 2.7 counts prompt and input-image tokens.
	const inputTokens = is27
		? [...task.job.prompt].length + task.job.inputs.reduce((sum, img) => sum + Math.ceil((img.width * img.height) / 784), 0)
		: 0;
	const outputTokens = is27 ? 2 * count : 0;
	return {
		image_count: count,
		size: `${task.job.width}*${task.job.height}`,
		input_tokens: inputTokens,
		output_tokens: outputTokens,
		total_tokens: inputTokens + outputTokens,
	};
}

/** §5.1 sync answer (without request_id). */
export function syncBody(task: TaskRecord, urlFor: UrlFor): Json {
	return { output: { choices: messageChoices(task, urlFor), finished: true }, usage: messagesUsage(task) };
}

/** §5.2 SSE frames: one increment per event, finish_reason "null" until the last ("stop"). */
export function sseFrames(task: TaskRecord, urlFor: UrlFor, requestId: string): string[] {
	const content = (messageChoices(task, urlFor)[0]?.message as { content: Json[] } | undefined)?.content ?? [];
	const usage = messagesUsage(task);
	return content.map((item, i) => {
		const last = i === content.length - 1;
		const data = {
			output: {
				choices: [{ finish_reason: last ? 'stop' : 'null', message: { role: 'assistant', content: [item] } }],
				finished: last,
			},
			usage,
			request_id: requestId,
		};
		return `id:${i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(data)}\n\n`;
	});
}
