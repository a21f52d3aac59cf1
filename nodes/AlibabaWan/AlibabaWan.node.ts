import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { credentialType, operations, route } from './actions/router';

export class AlibabaWan implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Alibaba Wan',
		name: 'alibabaWan',
		icon: { light: 'file:alibabaWan.svg', dark: 'file:alibabaWan.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ($parameter["model"] ? ": " + $parameter["model"] : "") }}',
		description: 'Generate, edit and fuse images with Alibaba Wan models (Model Studio / DashScope)',
		defaults: { name: 'Alibaba Wan' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: credentialType, required: true }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				default: 'editImage',
				options: [
					{ name: 'Cancel Task', value: 'cancelTask', action: 'Cancel a queued task', description: 'Cancel a task that is still queued' },
					{ name: 'Edit Image', value: 'editImage', action: 'Edit an image', description: 'Change one image by instruction, optionally inside region boxes' },
					{ name: 'Fuse Images', value: 'fuseImages', action: 'Fuse images', description: 'Combine 2 to 9 images by instruction' },
					{ name: 'Generate Image', value: 'generateImage', action: 'Generate an image', description: 'Create images from text' },
					{ name: 'Generate Image Set', value: 'generateImageSet', action: 'Generate an image set', description: 'Create a consistent set of up to 12 images' },
					{ name: 'Wait for Task', value: 'waitForTask', action: 'Wait for a task', description: 'Wait for submitted tasks and output their images' },
				],
			},
			...Object.values(operations).flatMap((operation) => operation.properties),
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await route(this);
	}
}
