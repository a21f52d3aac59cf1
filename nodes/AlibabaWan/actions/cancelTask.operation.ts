import { NodeOperationError, type INodeProperties } from 'n8n-workflow';

import { toNodeApiError } from '../transport';
import { includeInputFieldsProperties, refusalNotices } from './imageProperties';
import type { TaskStatus } from '../services';
import type { OperationHandler } from './operation';
import { fieldFailure, toTaskIds } from './parameterReaders';

const operation = 'cancelTask';

export const properties: INodeProperties[] = [
	...refusalNotices(operation),
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
	async prepare(ctx, itemIndex, env) {
		const fail = fieldFailure(ctx, itemIndex);
		// The same validator as Wait for Task: an ID goes into the URL path, so ".." or "/" must never pass.
		const taskIds = toTaskIds(ctx.getNodeParameter('taskId', itemIndex, ''), 'Task ID', fail, env.session.service.shortName);
		if (taskIds.length > 1) {
			fail(`Task ID holds ${taskIds.length} IDs (${taskIds.slice(0, 3).join(', ')}${taskIds.length > 3 ? ', …' : ''}); Cancel Task takes one per item: split them into one item each (e.g. with a Split Out node)`);
		}
		return taskIds[0];
	},
	async run(ctx, taskId, itemIndex, env) {
		// Every error of this operation names the item, like the validation errors do.
		const apiError = (error: unknown) => {
			const nodeError = toNodeApiError(ctx.getNode(), error, { itemIndex, taskId });
			if (!nodeError.message.startsWith('Item ')) nodeError.message = `Item ${itemIndex + 1}: ${nodeError.message}`;
			return nodeError;
		};
		// Ask first, so a running or finished task gets a clear answer instead of a bare API error.
		const { session } = env;
		let status: TaskStatus;
		try {
			status = (await session.getTask(taskId, { signal: env.signal })).status;
		} catch (error) {
			throw apiError(error);
		}
		if (!session.cancellableStatuses.includes(status)) {
			const why: Record<string, string> = {
				RUNNING: session.texts.runningNotCancellable,
				SUCCEEDED: 'it has already finished; collect its images with "Wait for Task"',
				FAILED: 'it has already failed',
				CANCELED: 'it was already cancelled',
				UNKNOWN: session.texts.unknownTaskOnCancel,
			};
			const error = new NodeOperationError(
				ctx.getNode(),
				`Item ${itemIndex + 1}: Task ${taskId} cannot be cancelled: ${why[status] ?? `its status is ${status}`}`,
				{ itemIndex, description: `Task ID ${taskId} · status ${status}` },
			);
			error.context.taskId = taskId;
			error.context.taskStatus = status;
			throw error;
		}
		try {
			const { requestId } = await session.cancelTask(taskId, { signal: env.signal });
			return [{ json: { taskId, canceled: true, previousStatus: status, requestId }, pairedItem: { item: itemIndex } }];
		} catch (error) {
			throw apiError(error);
		}
	},
};
