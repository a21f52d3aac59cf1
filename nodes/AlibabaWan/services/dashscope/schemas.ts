/**
 * zod schemas for DashScope's 200 answers. Unknown keys are kept (passthrough) so new fields reach
 * the node; only what the transport relies on is required.
 */
import { z } from 'zod';

const optionalString = z.string().nullish().transform((v) => v ?? undefined);

export const submitResponseSchema = z
	.object({
		request_id: optionalString,
		output: z
			.object({
				task_id: z.string().min(1),
				task_status: optionalString,
			})
			.passthrough(),
	})
	.passthrough();

const contentItem = z
	.object({ type: optionalString, image: optionalString, text: optionalString })
	.passthrough();

const choice = z
	.object({
		finish_reason: optionalString,
		message: z
			.object({ role: optionalString, content: z.array(contentItem).nullish() })
			.passthrough()
			.nullish(),
	})
	.passthrough();

const result = z
	.object({
		url: optionalString,
		orig_prompt: optionalString,
		actual_prompt: optionalString,
		code: optionalString,
		message: optionalString,
	})
	.passthrough();

export const taskOutputSchema = z
	.object({
		task_id: optionalString,
		task_status: z.string().min(1),
		submit_time: optionalString,
		scheduled_time: optionalString,
		end_time: optionalString,
		finished: z.boolean().nullish(),
		code: optionalString,
		message: optionalString,
		choices: z.array(choice).nullish(),
		results: z.array(result).nullish(),
		task_metrics: z
			.object({ TOTAL: z.number().nullish(), SUCCEEDED: z.number().nullish(), FAILED: z.number().nullish() })
			.passthrough()
			.nullish(),
	})
	.passthrough();

export const taskResponseSchema = z
	.object({
		request_id: optionalString,
		output: taskOutputSchema.optional(),
		usage: z.object({ image_count: z.number().nullish(), size: optionalString }).passthrough().nullish(),
		code: optionalString,
		message: optionalString,
	})
	.passthrough();

export const cancelResponseSchema = z.object({ request_id: optionalString }).passthrough();

const listEntry = z.object({ task_id: z.string().min(1), status: optionalString }).passthrough();
const looseNumber = z
	.union([z.number(), z.string().regex(/^\d+$/)])
	.nullish()
	.transform((v) => (v === null || v === undefined ? undefined : Number(v)));

export const listResponseSchema = z
	.object({
		request_id: optionalString,
		data: z.array(listEntry).nullish(),
		total: looseNumber,
		total_page: looseNumber,
		page_no: looseNumber,
		page_size: looseNumber,
	})
	.passthrough();

/** Short, key-free description of what did not match. */
export function describeZodError(error: z.ZodError): string {
	return error.issues
		.slice(0, 3)
		.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
		.join('; ');
}
