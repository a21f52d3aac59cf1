import type { INodeProperties } from 'n8n-workflow';

import { imageOperationProperties } from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'generateImage';

// Only Wan 2.6 (mixed text-and-image mode) takes an optional reference image here.
export const properties: INodeProperties[] = imageOperationProperties(operation, {
	images: 'optionalList',
	promptDescription: 'What to generate. Wan 2.7 accepts up to 5000 characters, Wan 2.6 up to 2000.',
});

export const execute = imageOperation(operation);
