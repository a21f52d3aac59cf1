/**
 * The item loop and error policy, shared by every operation:
 * 1. prepare every item (read + validate, nothing sent) — any invalid item stops the run before a
 *    paid request goes out, unless "Continue On Fail" turns it into an error item;
 * 2. run the prepared items with bounded concurrency; output order and pairedItem follow input order.
 * After a failure no new task is started, in-flight tasks are awaited (they are paid for), and the
 * error lists the task IDs that did complete so nothing is lost.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { resolveBaseUrl, type DashScopeCredentials } from '../catalog/regions';
import { toNodeApiError } from '../transport';
import * as cancelTask from './cancelTask.operation';
import * as editImage from './editImage.operation';
import * as fuseImages from './fuseImages.operation';
import * as generateImage from './generateImage.operation';
import * as generateImageSet from './generateImageSet.operation';
import type { OperationHandler } from './operation';
import { readConcurrency, type RunEnvironment } from './taskRunner';
import * as waitForTask from './waitForTask.operation';

export const operations = { generateImage, editImage, fuseImages, generateImageSet, waitForTask, cancelTask };
export type OperationName = keyof typeof operations;

export const credentialType = 'alibabaDashScopeApi';

export async function route(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const operation = ctx.getNodeParameter('operation', 0) as OperationName;
	const handler = operations[operation]?.execute as OperationHandler | undefined;
	if (!handler) throw new NodeOperationError(ctx.getNode(), `Unknown operation "${operation}"`);
	const env = await runEnvironment(ctx);
	const continueOnFail = ctx.continueOnFail();
	// One value for the whole run: checked before any item is prepared, so a bad value sends nothing.
	const concurrency = readConcurrency(ctx);

	const outputs: INodeExecutionData[][] = items.map(() => []);
	const prepared: Array<{ value: unknown } | undefined> = [];
	for (let i = 0; i < items.length; i++) {
		try {
			prepared[i] = { value: await handler.prepare(ctx, i, env) };
		} catch (error) {
			if (!continueOnFail) throw asNodeError(ctx, error, i);
			outputs[i] = [errorItem(ctx, error, i)];
		}
	}

	const failure: { first?: { index: number; error: Error } } = {};
	const recordFailure = (index: number, error: unknown) => {
		if (!failure.first || index < failure.first.index) failure.first = { index, error: asNodeError(ctx, error, index) };
	};
	let next = 0;
	const worker = async () => {
		while (next < items.length && !failure.first) {
			const i = next++;
			const entry = prepared[i];
			if (!entry) continue;
			try {
				outputs[i] = await handler.run(ctx, entry.value, i, env);
			} catch (error) {
				if (continueOnFail) {
					outputs[i] = [errorItem(ctx, error, i)];
				} else {
					recordFailure(i, error);
				}
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));

	if (failure.first) throw withCompletedTasks(failure.first.error, outputs);
	return [outputs.flat()];
}

async function runEnvironment(ctx: IExecuteFunctions): Promise<RunEnvironment> {
	const credentials = (await ctx.getCredentials(credentialType)) as unknown as DashScopeCredentials;
	let baseUrl: string;
	try {
		baseUrl = resolveBaseUrl(credentials);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message);
	}
	return {
		endpoint: { baseUrl, apiKey: String(credentials.apiKey ?? '').trim() },
		region: credentials.region,
		signal: typeof ctx.getExecutionCancelSignal === 'function' ? ctx.getExecutionCancelSignal() : undefined,
	};
}

function asNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): Error {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return toNodeApiError(ctx.getNode(), error, { itemIndex });
}

/** A continueOnFail item: the message plus everything needed to follow up (task ID, codes). */
function errorItem(ctx: IExecuteFunctions, error: unknown, itemIndex: number): INodeExecutionData {
	const nodeError = asNodeError(ctx, error, itemIndex) as NodeApiError | NodeOperationError;
	const context = (nodeError.context ?? {}) as IDataObject;
	const details = (context.dashScope ?? {}) as IDataObject;
	const json: IDataObject = {
		error: nodeError.message,
		description: nodeError.description ?? undefined,
		taskId: (context.taskId as string) ?? (details.task_id as string),
		taskStatus: context.taskStatus,
		code: details.code,
		requestId: details.request_id,
		httpStatus: details.http_status,
		hint: details.hint,
		taskMayExist: details.task_may_exist,
	};
	return {
		json: Object.fromEntries(Object.entries(json).filter(([, value]) => value !== undefined && value !== null)) as IDataObject,
		pairedItem: { item: itemIndex },
	};
}

function withCompletedTasks(error: Error, outputs: INodeExecutionData[][]): Error {
	const done = [...new Set(outputs.flat().map((item) => item.json.taskId).filter(Boolean))];
	if (done.length && (error instanceof NodeApiError || error instanceof NodeOperationError)) {
		const note = `Tasks that completed in this run (collect them with "Wait for Task"): ${done.join(', ')}`;
		error.description = error.description ? `${error.description}\n${note}` : note;
	}
	return error;
}
