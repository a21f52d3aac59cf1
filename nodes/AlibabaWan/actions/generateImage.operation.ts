import type { INodeProperties } from 'n8n-workflow';

import { imageOperationProperties } from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'generateImage';

// Only Wan 2.6 (mixed text-and-image mode) takes an optional reference image here.
export const properties: INodeProperties[] = imageOperationProperties(operation, {
	images: 'optionalList',
	promptDescription: 'What to generate: subject, setting, style, light',
	promptPlaceholder: 'A white ceramic mug on a marble kitchen counter, soft morning light, product photo',
});

export const execute = imageOperation(operation);
