import type { INodeProperties } from 'n8n-workflow';

import {
	countProperties,
	imageListProperties,
	modelOptionsProperty,
	modelProperty,
	optionsProperty,
	promptProperty,
	runProperties,
	sizeProperties,
} from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'generateImageSet';

export const properties: INodeProperties[] = [
	modelProperty(operation, 'wan2.7-image-pro'),
	promptProperty(operation, 'Describe the set, e.g. "four seasonal banners for the same sneaker, consistent style"'),
	...imageListProperties(operation, false),
	...sizeProperties(operation),
	...countProperties(operation),
	modelOptionsProperty(operation),
	...runProperties(operation, true),
	optionsProperty(operation, true),
];

export const execute = imageOperation(operation);
