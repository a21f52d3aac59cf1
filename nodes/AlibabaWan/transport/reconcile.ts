/**
 * A submit is never blindly repeated. After an answer that could follow acceptance (5xx, 408, 429, a
 * reset or timeout after the body was sent, a 2xx we could not read) the task list (free, filterable by
 * time and model) decides:
 * - the task is found → adopt it (no second task);
 * - tasks appeared that we cannot tell apart from ours → report them as candidates, never resubmit;
 * - the list provably shows nothing new → only then may the submit be sent again.
 *
 * "Ours" is judged against what this process knows: task IDs other submits of the same account and
 * model received (claimed), and submits still in flight (awaited first so their tasks get claimed).
 * Another client submitting the same model on the same account in the same seconds makes a match
 * uncertain, which is then reported, not guessed.
 */
import { createHash } from 'crypto';

import type { ListTasksQuery, ListTasksResult, TaskListEntry } from './types';

/** How far around the attempt the list is searched (clock skew between us and DashScope). */
const WINDOW_BEFORE_MS = 60_000;
const WINDOW_AFTER_MS = 60_000;
/** A task may show in the list a moment after it was created (UNCONFIRMED): look twice before "none". */
const SECOND_LOOK_DELAY_MS = 1_500;
/** Claimed IDs are kept this long (the list window is far shorter). */
const CLAIM_TTL_MS = 15 * 60_000;
/** Longest wait for the other in-flight submits of the same account and model. */
const SIBLING_WAIT_MS = 30_000;
const MAX_LIST_PAGES = 5;
/**
 * DashScope's `start_time`/`end_time` are `YYYYMMDDhhmmss` in an unstated zone (§5.5). Every documented
 * timestamp example is China time, so UTC+8 is assumed; the ±60 s window absorbs skew, not a wrong zone.
 */
const SERVICE_UTC_OFFSET_MS = 8 * 3600_000;

interface Bucket {
	claimed: Map<string, number>;
	inFlight: Set<Promise<unknown>>;
	/** Submits whose answer was lost and whose reconciliation has not finished. */
	unresolved: number;
}

const buckets = new Map<string, Bucket>();

export function bucketKey(origin: string, apiKey: string, model: string): string {
	return `${origin}#${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}#${model}`;
}

function bucket(key: string): Bucket {
	let b = buckets.get(key);
	if (!b) {
		b = { claimed: new Map(), inFlight: new Set(), unresolved: 0 };
		buckets.set(key, b);
	}
	const now = Date.now();
	for (const [id, at] of b.claimed) if (now - at > CLAIM_TTL_MS) b.claimed.delete(id);
	return b;
}

/** A task ID this process received (or adopted): never a candidate for another submit. */
export function claimTask(key: string, taskId: string): void {
	bucket(key).claimed.set(taskId, Date.now());
}

/** Tracks one submit attempt, so a concurrent reconciliation can wait for it to settle. */
export function trackAttempt<T>(key: string, attempt: Promise<T>): Promise<T> {
	const b = bucket(key);
	const settled = attempt.then(
		() => undefined,
		() => undefined,
	);
	b.inFlight.add(settled);
	void settled.then(() => b.inFlight.delete(settled));
	return attempt;
}

export type Reconciliation =
	| { kind: 'adopt'; task: TaskListEntry; how: 'request-id' | 'only-candidate' }
	| { kind: 'none' }
	| { kind: 'uncertain'; candidates: string[]; reason: string };

export interface ReconcileArgs {
	key: string;
	model: string;
	/** When the failed attempt started (epoch ms). */
	attemptStartedAt: number;
	/** request_id of the failed answer, when it had a DashScope body. */
	requestId?: string;
	list(query: ListTasksQuery): Promise<ListTasksResult>;
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export async function reconcileSubmit(args: ReconcileArgs): Promise<Reconciliation> {
	const b = bucket(args.key);
	b.unresolved += 1;
	try {
		for (let look = 0; look < 2; look++) {
			if (look > 0) await args.sleep(SECOND_LOOK_DELAY_MS);
			let listed: TaskListEntry[] | undefined;
			// Let the other submits of this account and model land first (their tasks get claimed), and list
			// again if one went out while the list was read.
			for (let round = 0; round < 5 && listed === undefined; round++) {
				const others = [...b.inFlight];
				if (others.length) {
					const timer = new AbortController();
					await Promise.race([Promise.all(others), args.sleep(SIBLING_WAIT_MS, timer.signal).catch(() => undefined)]);
					timer.abort(); // no timer outlives the race
				}
				try {
					const page = await listWindow(args);
					if (b.inFlight.size === 0 || round === 4) listed = page;
				} catch (error) {
					return {
						kind: 'uncertain',
						candidates: [],
						reason: `the task list could not be read (${error instanceof Error ? error.message : String(error)})`,
					};
				}
			}
			const candidates = (listed ?? []).filter((task) => !b.claimed.has(task.task_id));
			const byRequest = args.requestId ? candidates.find((task) => task.request_id === args.requestId) : undefined;
			if (byRequest) return { kind: 'adopt', task: byRequest, how: 'request-id' };
			if (candidates.length === 1 && b.unresolved === 1 && b.inFlight.size === 0) {
				return { kind: 'adopt', task: candidates[0], how: 'only-candidate' };
			}
			if (candidates.length > 0) {
				return {
					kind: 'uncertain',
					candidates: candidates.map((task) => task.task_id),
					reason:
						candidates.length === 1
							? 'another submit of this model was unresolved at the same time, so the task listed cannot be matched for certain'
							: `${candidates.length} tasks of this model were created in the same seconds and cannot be told apart`,
				};
			}
		}
		return { kind: 'none' };
	} finally {
		b.unresolved -= 1;
	}
}

async function listWindow(args: ReconcileArgs): Promise<TaskListEntry[]> {
	const query: ListTasksQuery = {
		startTime: serviceTime(args.attemptStartedAt - WINDOW_BEFORE_MS),
		endTime: serviceTime(Date.now() + WINDOW_AFTER_MS),
		modelName: args.model,
		pageSize: 100,
	};
	const tasks: TaskListEntry[] = [];
	for (let page = 1; page <= MAX_LIST_PAGES; page++) {
		const result = await args.list({ ...query, pageNo: page });
		tasks.push(...result.tasks);
		if (!result.totalPage || page >= result.totalPage || result.tasks.length === 0) break;
	}
	return tasks.filter((task) => !task.model_name || task.model_name === args.model);
}

/** epoch ms → `YYYYMMDDhhmmss` in the service's zone. */
export function serviceTime(ms: number): string {
	const d = new Date(ms + SERVICE_UTC_OFFSET_MS);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
