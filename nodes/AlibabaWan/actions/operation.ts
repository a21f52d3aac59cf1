import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { RunEnvironment } from './taskRunner';

/**
 * One operation's execute, split in two so the router can check every item before anything is
 * sent (and billed): `prepare` reads and validates an item; `run` sends and collects.
 */
export interface OperationHandler<Prepared = unknown> {
	prepare(ctx: IExecuteFunctions, itemIndex: number, env: RunEnvironment): Promise<Prepared>;
	run(ctx: IExecuteFunctions, prepared: Prepared, itemIndex: number, env: RunEnvironment): Promise<INodeExecutionData[]>;
}
