import type { INodeProperties } from 'n8n-workflow';

import { imageOperationProperties } from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'generateImageSet';

export const properties: INodeProperties[] = imageOperationProperties(operation, {
	images: 'optionalList',
	promptDescription: 'Describe the set: what stays the same and what changes from image to image',
	promptPlaceholder: 'Four seasonal banners for the same sneaker, consistent style',
});

export const execute = imageOperation(operation);
