/**
 * The item loop and the one error policy, shared by every operation:
 * 1. prepare every item (read + validate, nothing sent) — any invalid item stops the run before a
 *    paid request goes out, unless "Continue On Fail" turns it into an error item;
 * 2. run the prepared items with bounded concurrency; output order and pairedItem follow input order.
 * After a failure no new task is started and in-flight tasks are awaited (they are paid for). Whenever
 * anything fails — an item, a stop, a timeout — the error (or, with Continue On Fail, each error item)
 * carries the execution's task ledger: every task created, its state and how to collect it.
 * Everything that leaves here (items, errors, log lines) is scrubbed of the API key in one pass.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { withInputFields } from '../output/inputFields';
import { getService, services, type WanService, type WanSession } from '../services';
import { ERROR_DETAILS_KEY, redact, scrubDeep, toNodeApiError } from '../transport';
import * as cancelTask from './cancelTask.operation';
import * as editImage from './editImage.operation';
import * as fuseImages from './fuseImages.operation';
import * as generateImage from './generateImage.operation';
import * as generateImageSet from './generateImageSet.operation';
import type { OperationHandler } from './operation';
import { TaskLedger } from './taskLedger';
import { TaskPlaces } from './taskPlaces';
import { isToolMode, toolErrorResult, toolResult } from './toolMode';
import { readConcurrency, type RunEnvironment } from './taskRunner';
import * as waitForTask from './waitForTask.operation';

export const operations = { generateImage, editImage, fuseImages, generateImageSet, waitForTask, cancelTask };
export type OperationName = keyof typeof operations;

/** Each service's credential, asked for only when that service is chosen. */
export const credentialProperties = services.map((service) => ({
	name: service.credentialType,
	required: true,
	displayOptions: { show: { service: [service.id] } },
}));

/** Properties the scrub leaves alone: n8n's own node definition and binary payloads. */
const NOT_SCRUBBED = new Set(['node', 'data']);

export async function route(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const service = readService(ctx);
	const credentials = (await ctx.getCredentials(service.credentialType)) as Record<string, unknown>;
	const secrets = service.secretsOf(credentials);
	const asTool = isToolMode(ctx);
	try {
		const outputs = await runItems(ctx, connect(ctx, service, credentials), secrets, asTool);
		for (const item of outputs) {
			scrubDeep(item.json, secrets);
			for (const binary of Object.values(item.binary ?? {})) binary.fileName = binary.fileName && redact(binary.fileName, secrets);
		}
		return [asTool ? toolResult(outputs) : outputs];
	} catch (error) {
		const scrubbed = scrubDeep(error, secrets, NOT_SCRUBBED);
		// An agent reads a failure as its tool's answer and can correct the call (n8n would only pass on the message).
		if (asTool && (scrubbed instanceof NodeApiError || scrubbed instanceof NodeOperationError)) return [scrubDeep(toolErrorResult(scrubbed), secrets)];
		throw scrubbed;
	}
}

function readService(ctx: IExecuteFunctions): WanService {
	const id = ctx.getNodeParameter('service', 0, '') as string;
	const service = getService(id);
	if (!service) {
		throw new NodeOperationError(ctx.getNode(), `Unknown service "${id}": choose one of ${services.map((entry) => entry.displayName).join(', ')}`);
	}
	return service;
}

/** The credential → a session; a credential that cannot work (bad Base URL…) stops the run before anything is sent. */
function connect(ctx: IExecuteFunctions, service: WanService, credentials: Record<string, unknown>): WanSession {
	try {
		return service.connect(credentials);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message);
	}
}

async function runItems(
	ctx: IExecuteFunctions,
	session: WanSession,
	secrets: string[],
	asTool: boolean,
): Promise<INodeExecutionData[]> {
	const items = ctx.getInputData();
	const operation = ctx.getNodeParameter('operation', 0) as OperationName;
	const handler = operations[operation]?.execute as OperationHandler | undefined;
	if (!handler) throw new NodeOperationError(ctx.getNode(), `Unknown operation "${operation}"`);
	// An operation the service cannot run is refused before any item is read or anything is sent.
	const refusal = session.service.refusedOperations?.[operation as 'waitForTask' | 'cancelTask'];
	if (refusal) throw new NodeOperationError(ctx.getNode(), refusal);
	const env = runEnvironment(ctx, session, secrets);
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

	const failures: Array<{ index: number; error: Error }> = [];
	const runFailed: number[] = [];
	// At most `concurrency` tasks at once (fewer while the account answers 429, see taskPlaces.ts); an item frees
	// its place when its task has ended, so the next submit does not wait for the downloads (up to
	// `concurrency` items may be downloading meanwhile).
	const places = new TaskPlaces(concurrency);
	let next = 0;
	const worker = async () => {
		while (next < items.length && !failures.length) {
			const i = next++;
			const entry = prepared[i];
			if (!entry) continue;
			const release = await places.take();
			try {
				// A failure while this item waited for its place: no new task is started.
				if (failures.length) break;
				// Once per item: one ended task is one step of growth and frees one place.
				let ended = false;
				const taskEnded = () => {
					if (ended) return;
					ended = true;
					places.grow();
					release();
				};
				outputs[i] = await handler.run(ctx, entry.value, i, { ...env, taskEnded, submitThrottled: () => places.shrink() });
			} catch (error) {
				if (continueOnFail) {
					outputs[i] = [errorItem(ctx, error, i)];
					runFailed.push(i);
				} else {
					failures.push({ index: i, error: asNodeError(ctx, error, i) });
				}
			} finally {
				release();
			}
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.min(2 * concurrency, items.length) }, worker));
	} finally {
		places.close();
	}

	const stopped = env.signal?.aborted === true;
	if ((failures.length || stopped || runFailed.length) && env.ledger.size) {
		// n8n keeps a stopped execution's data from the moment of the stop: the log is where the rest shows.
		env.log(`${stopped ? 'execution stopped' : 'items failed'}; ${env.ledger.summary()}: ${env.ledger.lines().join(' | ')}`);
	}
	if (failures.length) throw withLedger(failures, env.ledger, stopped);
	// Error items of items that ran carry the final ledger (prepare errors come before any task exists).
	if (env.ledger.size) for (const i of runFailed) for (const item of outputs[i]) item.json.tasks = env.ledger.toJson();
	// A tool's input item is the agent's own (chat input, session, tool arguments): not part of its answer.
	return outputs.flatMap((itemOutputs, i) => (asTool ? itemOutputs : withInputFields(ctx, i, itemOutputs)));
}

function runEnvironment(ctx: IExecuteFunctions, session: WanSession, secrets: string[]): RunEnvironment {
	return {
		session,
		signal: typeof ctx.getExecutionCancelSignal === 'function' ? ctx.getExecutionCancelSignal() : undefined,
		ledger: new TaskLedger(session.service.taskValidityMs, !session.service.refusedOperations?.waitForTask),
		log: (message) => {
			try {
				ctx.logger.warn(redact(`Alibaba Wan: ${message}`, secrets));
			} catch {
				// no logger in this context
			}
		},
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
	const details = (context[ERROR_DETAILS_KEY] ?? {}) as IDataObject;
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

/**
 * The first failing item's error, completed with every task of the execution and its state, and the
 * other items that failed. The list goes in the description (shown under the message) and in
 * `context.tasks` (machine-readable).
 */
function withLedger(failures: Array<{ index: number; error: Error }>, ledger: TaskLedger, stopped: boolean): Error {
	failures.sort((a, b) => a.index - b.index);
	const error = failures[0].error;
	if (!(error instanceof NodeApiError || error instanceof NodeOperationError)) return error;
	const lines: string[] = [];
	if (ledger.size) lines.push(`${ledger.summary()}:`, ...ledger.lines());
	for (const other of failures.slice(1)) lines.push(`Item ${other.index + 1} also failed: ${other.error.message}`);
	if (lines.length) {
		error.description = [error.description, ...lines].filter(Boolean).join('\n');
		error.context.tasks = ledger.toJson();
	}
	// After a stop only the message is shown (in the log): it names every task too.
	if (stopped && ledger.size) error.message = `${error.message} ${ledger.summary()}: ${ledger.lines().join(' | ')}`;
	return error;
}
