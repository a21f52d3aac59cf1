import type { INodeProperties } from 'n8n-workflow';

import type { OutputSettings } from '../output/binaryItems';
import { optionsProperty, runProperties } from './imageProperties';
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
	{
		displayName: 'Task IDs',
		name: 'taskIds',
		type: 'string',
		default: '={{ $json.taskId }}',
		required: true,
		description:
			'One or more DashScope task IDs (separated by commas, spaces or new lines, or an array from an expression), e.g. from a "Submit Only" run. IDs expire after 24 hours.',
		displayOptions: { show: { operation: [operation] } },
	},
	...runProperties(operation, false),
	optionsProperty(operation, false),
];

interface PreparedWait {
	taskIds: string[];
	wait: WaitSettings;
	output: OutputSettings;
}

export const execute: OperationHandler<PreparedWait> = {
	async prepare(ctx, itemIndex) {
		const taskIds = toTaskIds(ctx.getNodeParameter('taskIds', itemIndex, ''), 'Task IDs', fieldFailure(ctx, itemIndex));
		return { taskIds, wait: readWaitSettings(ctx, itemIndex), output: readOutputSettings(ctx, itemIndex) };
	},
	async run(ctx, prepared, itemIndex, env) {
		const items = [];
		const input = ctx.getInputData()[itemIndex]?.json ?? {};
		for (const taskId of prepared.taskIds) {
			const context = contextFromSubmittedItem(input, taskId, env.region) ?? { operation, region: env.region };
			items.push(...(await collectTask(ctx, env, taskId, context, prepared.wait, prepared.output, itemIndex)));
		}
		return items;
	},
};
