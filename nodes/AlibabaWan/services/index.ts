/**
 * The service registry: the only place the shared pipeline learns which services exist. The node's
 * `service` parameter holds a service's `id`; a workflow saved without it runs on the default.
 */
import type { INodeProperties } from 'n8n-workflow';

import { dashScopeService } from './dashscope';
import { gatewayService } from './gateway';
import { runwareService } from './runware';
import type { WanService } from './types';

export const services: readonly WanService[] = [dashScopeService, runwareService, gatewayService];

/** Workflows saved before the Service choice existed run on this one (today's behaviour). */
export const defaultService: WanService = dashScopeService;

export function getService(id: string | undefined): WanService | undefined {
	if (id === undefined || id === '') return defaultService;
	return services.find((service) => service.id === id);
}

/** The node's Service choice: one option per registered service. */
export const serviceProperty: INodeProperties = {
	displayName: 'Service',
	name: 'service',
	type: 'options',
	noDataExpression: true,
	// The default service's id (a literal, as n8n's lint requires; test/services.boundary.test.ts checks it).
	default: 'dashscope',
	options: services.map((service) => ({ name: service.displayName, value: service.id })),
	description: 'Which API the images are made through; each service has its own credential',
};

export type * from './types';
