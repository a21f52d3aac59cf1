/**
 * The reliability ledger: every case of the fault suite and the bad-input suite records what it measured
 * here, and jest's global teardown (./writeReport.js) turns the records of one full run into
 * test/RELIABILITY.md. Each figure comes from the emulator's counters and the run's outputs, never typed in.
 *
 * Records are JSON lines in test/reliability/.results/<suite>.jsonl (git-ignored), cleared by the global
 * set-up at the start of every jest run.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ReliabilitySuite = 'bad-input' | 'fault';

export interface ReliabilityCase {
	suite: ReliabilitySuite;
	/** Stable id, e.g. "BI-012" or "F-007". */
	id: string;
	/** What the user did or what went wrong, in a few words. */
	title: string;
	/** Numbers of the holes in issue 8 this case covers, if any. */
	holes?: number[];
	model?: string;
	operation?: string;
	/** What the user got, in a few words (e.g. 'error names item 2, field "Prompt"; 0 requests'). */
	outcome: string;
	/** Requests the emulator received (all routes). 0 is due for every bad-input case. */
	requestsSent: number;
	/** Tasks the emulator created, and how many logical tasks (items × submits) the case meant. */
	tasksCreated: number;
	logicalTasks: number;
	/** Tasks created beyond one per logical task. */
	duplicateTasks: number;
	/** Images the service generated that reached neither an output item nor a reported task ID. */
	lostImages: number;
	/** Created task IDs that appear in no output, error or error item. */
	unreportedTaskIds: number;
	/** Appearances of the API key in outputs, errors, run data and captured log lines. */
	keyAppearances: number;
	/** The case's own assertions all held. */
	passed: boolean;
}

export const resultsDir = path.join(__dirname, '.results');

export function recordCase(record: ReliabilityCase): void {
	fs.mkdirSync(resultsDir, { recursive: true });
	fs.appendFileSync(path.join(resultsDir, `${record.suite}.jsonl`), JSON.stringify(record) + '\n');
}
