import type { INodeProperties } from 'n8n-workflow';

import { imageOperationProperties } from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'editImage';

export const properties: INodeProperties[] = imageOperationProperties(operation, {
	images: 'single',
	promptDescription: 'The edit instruction, e.g. "replace the background with a marble kitchen counter"',
	promptPlaceholder: 'Replace the background with a marble kitchen counter; keep the product unchanged',
	imagesFirst: true,
});

export const execute = imageOperation(operation);
