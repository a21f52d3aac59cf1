import { NodeOperationError, type INodeProperties } from 'n8n-workflow';

import { cancelTask, getTask, toNodeApiError } from '../transport';
import { includeInputFieldsProperties } from './imageProperties';
import type { OperationHandler } from './operation';

const operation = 'cancelTask';

export const properties: INodeProperties[] = [
	{
		displayName: 'Task ID',
		name: 'taskId',
		type: 'string',
		default: '={{ $json.taskId }}',
		required: true,
		description: 'The DashScope task to cancel. Only tasks still queued (PENDING) can be cancelled.',
		displayOptions: { show: { operation: [operation] } },
	},
	...includeInputFieldsProperties(operation),
];

export const execute: OperationHandler<string> = {
	async prepare(ctx, itemIndex) {
		const taskId = String(ctx.getNodeParameter('taskId', itemIndex, '')).trim();
		if (!taskId) throw new NodeOperationError(ctx.getNode(), `Item ${itemIndex + 1}: Task ID is empty`, { itemIndex });
		return taskId;
	},
	async run(ctx, taskId, itemIndex, env) {
		// Ask first, so a running or finished task gets a clear answer instead of a bare API error.
		let status: string;
		try {
			status = (await getTask(env.endpoint, taskId, { signal: env.signal })).output.task_status;
		} catch (error) {
			throw toNodeApiError(ctx.getNode(), error, { itemIndex, taskId });
		}
		if (status !== 'PENDING') {
			const why: Record<string, string> = {
				RUNNING: 'it is already running; DashScope can only cancel tasks that are still queued',
				SUCCEEDED: 'it has already finished; collect its images with "Wait for Task"',
				FAILED: 'it has already failed',
				CANCELED: 'it was already cancelled',
				UNKNOWN: 'DashScope does not know it (task IDs expire after 24 hours, or it belongs to another region)',
			};
			const error = new NodeOperationError(
				ctx.getNode(),
				`Task ${taskId} cannot be cancelled: ${why[status] ?? `its status is ${status}`}`,
				{ itemIndex, description: `Task ID ${taskId} · status ${status}` },
			);
			error.context.taskId = taskId;
			error.context.taskStatus = status;
			throw error;
		}
		try {
			const { requestId } = await cancelTask(env.endpoint, taskId, { signal: env.signal });
			return [{ json: { taskId, canceled: true, previousStatus: status, requestId }, pairedItem: { item: itemIndex } }];
		} catch (error) {
			throw toNodeApiError(ctx.getNode(), error, { itemIndex, taskId });
		}
	},
};
