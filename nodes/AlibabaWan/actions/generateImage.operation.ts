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

const operation = 'generateImage';

export const properties: INodeProperties[] = [
	modelProperty(operation, 'wan2.7-image-pro'),
	promptProperty(operation, 'What to generate. Wan 2.7 accepts up to 5000 characters, Wan 2.6 up to 2000.'),
	// Only Wan 2.6 (mixed text-and-image mode) takes an optional reference image here.
	...imageListProperties(operation, false),
	...sizeProperties(operation),
	...countProperties(operation),
	modelOptionsProperty(operation),
	...runProperties(operation, true),
	optionsProperty(operation, true),
];

export const execute = imageOperation(operation);
