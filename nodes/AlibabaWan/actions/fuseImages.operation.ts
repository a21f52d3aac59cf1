import type { INodeProperties } from 'n8n-workflow';

import { imageOperationProperties } from './imageProperties';
import { imageOperation } from './imageOperation';

const operation = 'fuseImages';

export const properties: INodeProperties[] = imageOperationProperties(operation, {
	images: 'list',
	promptDescription: 'How to combine the images; refer to them as "image 1", "image 2"… in list order',
	promptPlaceholder: 'Put the logo from image 2 on the mug in image 1',
	imagesFirst: true,
});

export const execute = imageOperation(operation);
