/**
 * The node's operations as the editor lists them: version 1 shows one flat list; version 2 groups
 * them by resource (Image, Task), n8n's resource/operation pattern. Both versions use the same
 * operation values, so one router serves both.
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { OperationName } from './router';

export type ResourceName = 'image' | 'task';

interface OperationOption extends INodePropertyOptions {
	value: OperationName;
	resource: ResourceName;
	/** The action text version 1 showed, when it differs (kept so v1 panels do not change). */
	v1Action?: string;
}

/** Alphabetical by name, as n8n lists options. */
export const operationOptions: OperationOption[] = [
	{ name: 'Cancel Task', value: 'cancelTask', resource: 'task', action: 'Cancel a task', v1Action: 'Cancel a queued task', description: 'Cancel a task that is still queued' },
	{ name: 'Edit Image', value: 'editImage', resource: 'image', action: 'Edit an image', description: 'Change one image by instruction, optionally inside region boxes' },
	{ name: 'Fuse Images', value: 'fuseImages', resource: 'image', action: 'Fuse images', description: 'Combine 2 to 9 images by instruction' },
	{ name: 'Generate Image', value: 'generateImage', resource: 'image', action: 'Generate an image', description: 'Create images from text' },
	{ name: 'Generate Image Set', value: 'generateImageSet', resource: 'image', action: 'Generate an image set', description: 'Create a consistent set of up to 12 images' },
	{ name: 'Wait for Task', value: 'waitForTask', resource: 'task', action: 'Wait for a task', description: 'Wait for submitted tasks and output their images' },
];

const asOption = ({ name, value, action, description }: OperationOption): INodePropertyOptions => ({ name, value, action, description });

/** Version 1: one flat operation list, exactly as released. */
export const operationPropertyV1: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'editImage',
	options: operationOptions.map((option) => asOption({ ...option, action: option.v1Action ?? option.action })),
	displayOptions: { show: { '@version': [1] } },
};

/** Version 2: Resource, then the operations of that resource. */
export const resourceAndOperationPropertiesV2: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		default: 'image',
		options: [
			{ name: 'Image', value: 'image' },
			{ name: 'Task', value: 'task' },
		],
		displayOptions: { show: { '@version': [2] } },
	},
	...(
		[
			['image', 'editImage'],
			['task', 'waitForTask'],
		] as const
	).map(
		([resource, defaultOperation]): INodeProperties => ({
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			default: defaultOperation,
			options: operationOptions.filter((option) => option.resource === resource).map(asOption),
			displayOptions: { show: { '@version': [2], resource: [resource] } },
		}),
	),
];

/**
 * The canvas subtitle, e.g. "Edit Image · wan2.7-image": the operation's name (not its value) and
 * the model when the operation has one.
 */
export const subtitle =
	`={{ ((${JSON.stringify(Object.fromEntries(operationOptions.map((option) => [option.value, option.name])))})[$parameter["operation"]] ?? $parameter["operation"]) ` +
	'+ ($parameter["model"] ? " · " + $parameter["model"] : "") }}';
