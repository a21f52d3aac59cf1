/**
 * Every task this execution created (or collected), with its state. When anything goes wrong — an item
 * fails, the execution is stopped, a wait times out — the router reports the whole ledger, so no billed
 * task is ever named nowhere.
 */
import type { IDataObject } from 'n8n-workflow';

import { validityText } from '../tasks/taskResults';

export type TaskState =
	/** Finished and its images are in the output. */
	| 'emitted'
	/** Finished (billed) but its images did not reach the output. */
	| 'uncollected'
	/** Submitted and not finished (billed if it succeeds). */
	| 'running'
	/** Ended FAILED (not billed). */
	| 'failed'
	/** Cancelled while queued (not billed). */
	| 'canceled'
	/** Its state could not be read. */
	| 'unknown'
	/** A submit's answer was lost and this task, created in the same seconds, may be that item's. */
	| 'candidate';

export interface LedgerEntry {
	taskId: string;
	/** 0-based item index. */
	itemIndex: number;
	state: TaskState;
	/** Why, when it matters (the failure code, the lost download). */
	detail?: string;
}

/**
 * What each state means for the user; `validityMs` is how long the service keeps a task collectable.
 * A service that cannot be asked about a task later (a synchronous one) gets no "Wait for Task" advice.
 */
function descriptions(validityMs: number, collectable: boolean): Record<TaskState, string> {
	if (!collectable) {
		const noTask = "the service returns no task to collect later: check its usage or billing page before running the item again";
		return {
			emitted: 'finished, images in the output',
			uncollected: `finished (billed) but its images did not reach the output; ${noTask}`,
			running: `sent, its answer not received (may be billed); ${noTask}`,
			failed: 'failed (not billed)',
			canceled: 'cancelled (not billed)',
			unknown: `its answer was lost: images may have been generated and billed; ${noTask}`,
			candidate: `may be this item's request, whose answer was lost (may be billed); ${noTask}`,
		};
	}
	const collect = `collect it with "Wait for Task" within ${validityText(validityMs)}`;
	return {
		emitted: 'finished, images in the output',
		uncollected: `finished but not collected (billed): ${collect}`,
		running: `still running (billed if it succeeds): ${collect}`,
		failed: 'failed (not billed)',
		canceled: 'cancelled (not billed)',
		unknown: `state unknown (may be billed): check it with "Wait for Task"`,
		candidate: `may be this item's task, whose submit answer was lost (billed if it succeeds): check it with "Wait for Task"`,
	};
}

export class TaskLedger {
	private readonly tasks = new Map<string, LedgerEntry>();
	private readonly describe: Record<TaskState, string>;

	/** `collectable`: whether "Wait for Task" can collect this service's tasks later. */
	constructor(taskValidityMs: number, collectable = true) {
		this.describe = descriptions(taskValidityMs, collectable);
	}

	/** Records or updates a task (the latest state wins; the first item number stays). */
	record(taskId: string, itemIndex: number, state: TaskState, detail?: string): void {
		const known = this.tasks.get(taskId);
		this.tasks.set(taskId, { taskId, itemIndex: known?.itemIndex ?? itemIndex, state, ...(detail ? { detail } : {}) });
	}

	get size(): number {
		return this.tasks.size;
	}

	entries(): LedgerEntry[] {
		return [...this.tasks.values()].sort((a, b) => a.itemIndex - b.itemIndex);
	}

	/** "5 tasks: 2 finished, images in the output; 3 still running…" — short, for the error message. */
	summary(): string {
		const counts = new Map<TaskState, number>();
		for (const entry of this.tasks.values()) counts.set(entry.state, (counts.get(entry.state) ?? 0) + 1);
		const label: Record<TaskState, string> = {
			emitted: 'emitted',
			uncollected: 'finished but not collected',
			running: 'still running',
			failed: 'failed',
			canceled: 'cancelled',
			unknown: 'state unknown',
			candidate: 'possibly created by a lost submit',
		};
		const parts = [...counts].map(([state, n]) => `${n} ${label[state]}`);
		return `${this.tasks.size} task${this.tasks.size === 1 ? '' : 's'} in this execution (${parts.join(', ')})`;
	}

	/** One line per task: ID, item, state and how to collect it. */
	lines(): string[] {
		return this.entries().map(
			(entry) =>
				`Task ${entry.taskId} (item ${entry.itemIndex + 1}): ${this.describe[entry.state]}${entry.detail ? ` — ${entry.detail}` : ''}`,
		);
	}

	toJson(): IDataObject[] {
		return this.entries().map((entry) => ({
			taskId: entry.taskId,
			item: entry.itemIndex + 1,
			state: entry.state,
			note: this.describe[entry.state],
			...(entry.detail ? { detail: entry.detail } : {}),
		}));
	}
}
