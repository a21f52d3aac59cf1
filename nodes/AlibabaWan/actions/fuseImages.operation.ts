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

const operation = 'fuseImages';

export const properties: INodeProperties[] = [
	modelProperty(operation, 'wan2.7-image-pro'),
	...imageListProperties(operation, true),
	promptProperty(operation, 'How to combine the images; refer to them as "image 1", "image 2"… in list order'),
	...sizeProperties(operation),
	...countProperties(operation),
	modelOptionsProperty(operation),
	...runProperties(operation, true),
	optionsProperty(operation, true),
];

export const execute = imageOperation(operation);
