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

import type { Reconciliation as CallReconciliation } from '../../transport/callRunner';
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
 * DashScope's list times (`start_time`/`end_time`, `gmt_create`) are wall-clock times in an unstated
 * zone (§5.5). The list is read wide enough for any zone; the zone is then learned from a task this
 * process created (its `gmt_create` against when its ID arrived). Until then UTC+8 (every documented
 * example is China time) decides which tasks are likely, and tasks that would fit another zone still
 * count as possible: they block both adoption and a resend (reported as candidates instead).
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

export type Reconciliation = CallReconciliation<TaskListEntry>;

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
			let listing: Listing | undefined;
			// Let the other submits of this account and model land first (their tasks get claimed), and list
			// again if one went out while the list was read.
			for (let round = 0; round < 5 && listing === undefined; round++) {
				const others = [...b.inFlight];
				if (others.length) {
					const timer = new AbortController();
					await Promise.race([Promise.all(others), args.sleep(SIBLING_WAIT_MS, timer.signal).catch(() => undefined)]);
					timer.abort(); // no timer outlives the race
				}
				try {
					const page = await listAnyZone(args);
					if (b.inFlight.size === 0 || round === 4) listing = page;
				} catch (error) {
					return {
						kind: 'uncertain',
						candidates: [],
						reason: `the task list could not be read (${error instanceof Error ? error.message : String(error)})`,
					};
				}
			}
			const decision = decide(args, b, listing!);
			if (decision) return decision;
		}
		return { kind: 'none' };
	} finally {
		b.unresolved -= 1;
	}
}

interface Listing {
	tasks: TaskListEntry[];
	/** Every page was read. */
	complete: boolean;
}

/** Service zone offsets (ms) learned per account+model from tasks this process created. */
const learnedZones = new Map<string, number>();
const ZONE_MIN_MS = -12 * 3600_000;
const ZONE_MAX_MS = 14 * 3600_000;
const MAX_REPORTED_CANDIDATES = 20;

function decide(args: ReconcileArgs, b: Bucket, listing: Listing): Reconciliation | undefined {
	learnZone(args.key, b, listing.tasks);
	const learned = learnedZones.get(args.key);
	const zone = learned ?? SERVICE_UTC_OFFSET_MS;
	const from = args.attemptStartedAt - WINDOW_BEFORE_MS;
	const to = Date.now() + WINDOW_AFTER_MS;
	// A listed task names the request that created it: when the failed answer carried its request ID, a
	// task created by another request (another execution or worker on the same key) is provably not ours.
	const mayBeOurs = (task: TaskListEntry) => !args.requestId || !task.request_id || task.request_id === args.requestId;
	const unclaimed = listing.tasks.filter((task) => !b.claimed.has(task.task_id) && mayBeOurs(task));
	const inWindow = (task: TaskListEntry) => {
		const created = parseServiceTime(task.gmt_create);
		return created === undefined || (created - zone >= from && created - zone <= to);
	};
	const likely = unclaimed.filter(inWindow);
	// With the zone only assumed, a task whose time fits under another zone cannot be ruled out.
	const possible = learned === undefined ? unclaimed.filter((task) => !inWindow(task)) : [];

	const byRequest = args.requestId ? unclaimed.find((task) => task.request_id === args.requestId) : undefined;
	if (byRequest) return { kind: 'adopt', task: byRequest, how: 'request-id' };
	if (likely.length === 1 && possible.length === 0 && b.unresolved === 1 && b.inFlight.size === 0) {
		return { kind: 'adopt', task: likely[0], how: 'only-candidate' };
	}
	if (likely.length + possible.length > 0) {
		const ids = [...likely, ...possible].map((task) => task.task_id);
		const shown = ids.slice(0, MAX_REPORTED_CANDIDATES);
		const more = ids.length - shown.length;
		const why =
			likely.length === 1 && possible.length === 0
				? 'another submit of this model was unresolved at the same time, so the task listed cannot be matched for certain'
				: likely.length > 1
					? `${likely.length} tasks of this model were created in the same seconds and cannot be told apart`
					: `the service's time zone is not known yet, and ${possible.length} task(s) of this model could have been created in the same seconds`;
		return { kind: 'uncertain', candidates: shown, reason: more > 0 ? `${why} (and ${more} more)` : why };
	}
	if (!listing.complete) {
		return { kind: 'uncertain', candidates: [], reason: 'the task list was too long to read in full' };
	}
	return undefined;
}

/** A task this process created shows in the list: its gmt_create against when we got its ID gives the zone. */
function learnZone(key: string, b: Bucket, tasks: TaskListEntry[]): void {
	for (const task of tasks) {
		const claimedAt = b.claimed.get(task.task_id);
		const created = parseServiceTime(task.gmt_create);
		if (claimedAt === undefined || created === undefined) continue;
		const offset = Math.round((created - claimedAt) / 900_000) * 900_000; // zones are whole quarter hours
		if (offset >= ZONE_MIN_MS && offset <= ZONE_MAX_MS) learnedZones.set(key, offset);
		return;
	}
}

/**
 * The list read with a window wide enough for any service zone (UTC-12 … UTC+14): `start_time` and
 * `end_time` are wall-clock strings in the service's zone (§5.5), which the docs do not state.
 */
async function listAnyZone(args: ReconcileArgs): Promise<Listing> {
	const learned = learnedZones.get(args.key);
	const query: ListTasksQuery = {
		startTime: wallClock(args.attemptStartedAt - WINDOW_BEFORE_MS + (learned ?? ZONE_MIN_MS)),
		endTime: wallClock(Date.now() + WINDOW_AFTER_MS + (learned ?? ZONE_MAX_MS)),
		modelName: args.model,
		pageSize: 100,
	};
	const tasks: TaskListEntry[] = [];
	let complete = false;
	for (let page = 1; page <= MAX_LIST_PAGES; page++) {
		const result = await args.list({ ...query, pageNo: page });
		tasks.push(...result.tasks);
		if (!result.totalPage || page >= result.totalPage || result.tasks.length === 0) {
			complete = true;
			break;
		}
	}
	return { tasks: tasks.filter((task) => !task.model_name || task.model_name === args.model), complete };
}

/** epoch ms (already shifted into the wanted zone) → `YYYYMMDDhhmmss`. */
function wallClock(ms: number): string {
	const d = new Date(ms);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** "2026-03-26 17:16:22.961" as if it were UTC (the caller applies the zone). */
function parseServiceTime(value: unknown): number | undefined {
	if (typeof value !== 'string' || !value) return undefined;
	const ms = Date.parse(`${value.trim().replace(' ', 'T')}Z`);
	return Number.isNaN(ms) ? undefined : ms;
}
