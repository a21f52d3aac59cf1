import type { INodeProperties } from 'n8n-workflow';

import {
	countProperties,
	modelOptionsProperty,
	modelProperty,
	optionsProperty,
	promptProperty,
	runProperties,
	singleImageProperties,
	sizeProperties,
} from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'editImage';

export const properties: INodeProperties[] = [
	modelProperty(operation, 'wan2.7-image-pro'),
	...singleImageProperties(operation),
	promptProperty(operation, 'The edit instruction, e.g. "replace the background with a marble kitchen counter"'),
	...sizeProperties(operation),
	...countProperties(operation),
	modelOptionsProperty(operation),
	...runProperties(operation, true),
	optionsProperty(operation, true),
];

export const execute = imageOperation(operation);
