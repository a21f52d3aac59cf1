import {
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
	type INodeProperties,
	type NodeApiError,
} from 'n8n-workflow';

import { toNodeApiError } from '../transport';

import type { OutputSettings } from '../output/binaryItems';
import { includeInputFieldsProperties, optionsProperty, refusalNotices, runProperties } from './imageProperties';
import type { OperationHandler } from './operation';
import { fieldFailure, toTaskIds } from './parameterReaders';
import {
	collectTask,
	contextFromSubmittedItem,
	readOutputSettings,
	readWaitSettings,
	type WaitSettings,
} from './taskRunner';

const operation = 'waitForTask';

export const properties: INodeProperties[] = [
	...refusalNotices(operation),
	{
		displayName: 'Task IDs',
		name: 'taskIds',
		type: 'string',
		default: '={{ $json.taskId }}',
		required: true,
		description:
			'One or more task IDs of the chosen service (separated by commas, spaces or new lines, or an array from an expression), e.g. from a "Submit Only" run. DashScope task IDs expire after 24 hours; Runware does not say how long it keeps a taskUUID (collect within an hour).',
		displayOptions: { show: { operation: [operation] } },
	},
	...runProperties(operation, false),
	...includeInputFieldsProperties(operation),
	optionsProperty(operation, false),
];

interface PreparedWait {
	taskIds: string[];
	wait: WaitSettings;
	output: OutputSettings;
}

export const execute: OperationHandler<PreparedWait> = {
	async prepare(ctx, itemIndex, env) {
		const taskIds = toTaskIds(ctx.getNodeParameter('taskIds', itemIndex, ''), 'Task IDs', fieldFailure(ctx, itemIndex), env.session.service.shortName);
		return { taskIds, wait: readWaitSettings(ctx, itemIndex), output: readOutputSettings(ctx, itemIndex) };
	},
	async run(ctx, prepared, itemIndex, env) {
		// Every ID is collected even when one fails: the finished ones are kept, the failed one is reported
		// (one error item per failed ID among the results). Only when none succeeds does the item fail.
		const items: INodeExecutionData[] = [];
		const failed: Array<{ taskId: string; error: NodeApiError | NodeOperationError }> = [];
		const input = ctx.getInputData()[itemIndex]?.json ?? {};
		// The item keeps its place until all its tasks are collected (the router frees it when run ends):
		// freed at its first task, the next item would poll beside this one's remaining tasks. It created
		// no task, so a task ending here says nothing about the account's room for submits either (no grow).
		const collecting = { ...env, taskEnded: undefined };
		for (const taskId of prepared.taskIds) {
			const context = contextFromSubmittedItem(input, taskId, env.session.location) ?? { operation, region: env.session.location };
			try {
				items.push(...(await collectTask(ctx, collecting, taskId, context, prepared.wait, prepared.output, itemIndex)));
			} catch (error) {
				failed.push({ taskId, error: toNodeApiError(ctx.getNode(), error, { itemIndex, taskId }) });
			}
		}
		if (failed.length && (!items.length || env.signal?.aborted)) {
			const first = failed[0].error;
			if (failed.length > 1) {
				first.description = [first.description, ...failed.slice(1).map((f) => `Task ${f.taskId} also failed: ${f.error.message}`)]
					.filter(Boolean)
					.join('\n');
			}
			throw first;
		}
		for (const { taskId, error } of failed) {
			items.push({
				json: Object.fromEntries(
					Object.entries({
						taskId,
						error: error.message,
						description: error.description,
						taskStatus: error.context.taskStatus,
						code: error.context.code,
					}).filter(([, value]) => value !== undefined && value !== null),
				) as IDataObject,
				pairedItem: { item: itemIndex },
			});
		}
		return items;
	},
};
