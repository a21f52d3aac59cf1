import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { operationPropertyV1, resourceAndOperationPropertiesV2, subtitle } from './actions/operationOptions';
import { warnIfRetryOnFail } from './actions/retryWarning';
import { credentialProperties, operations, route } from './actions/router';
import { serviceProperty } from './services';

export class AlibabaWan implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Alibaba Wan',
		name: 'alibabaWan',
		icon: { light: 'file:alibabaWan.svg', dark: 'file:alibabaWan.dark.svg' },
		group: ['transform'],
		// 1: flat operation list, input fields dropped (kept for saved workflows). 2: resources, input fields kept.
		version: [1, 2],
		defaultVersion: 2,
		subtitle,
		description: 'Generate, edit and fuse images with Alibaba Wan models, through DashScope (Model Studio) or Runware',
		defaults: { name: 'Alibaba Wan' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: credentialProperties,
		properties: [
			serviceProperty,
			operationPropertyV1,
			...resourceAndOperationPropertiesV2,
			...Object.values(operations).flatMap((operation) => operation.properties),
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		warnIfRetryOnFail(this);
		return await route(this);
	}
}
