/**
 * Injected faults. Rules are consulted in injection order at two points of a request:
 * - 'arrival' (http, reset, delay): as soon as the request is read, before auth/validation;
 * - 'accept' (reset-after-accept, http-after-accept, fail-task, partial, moderation): when a valid
 *   submit/sync call is about to be accepted; these only ever match submit and sync requests;
 * - 'response' (reset-mid-body, truncate-body): when the real answer is about to be written; they cut
 *   its body (meant for result downloads: kind 'result').
 * A rule is consumed (times--) only when it actually applies.
 */
import type { FaultAction, FaultKind, FaultRule, RequestKind } from './types';

export type FaultStage = 'arrival' | 'accept' | 'response';

const ARRIVAL_ACTIONS: ReadonlySet<FaultAction['type']> = new Set(['http', 'reset', 'delay', 'replace-body']);
const RESPONSE_ACTIONS: ReadonlySet<FaultAction['type']> = new Set(['reset-mid-body', 'truncate-body']);
/** Kinds that 'any' covers: the DashScope API, not OSS result downloads or form uploads. */
const ANY_KINDS: ReadonlySet<RequestKind> = new Set(['submit', 'sync', 'query', 'cancel', 'list', 'upload-policy']);

interface ActiveRule {
	rule: FaultRule;
	remaining: number;
}

export interface FaultTarget {
	kind: RequestKind;
	model?: string;
	taskId?: string;
}

export class FaultQueue {
	private rules: ActiveRule[] = [];

	add(rule: FaultRule): void {
		validateRule(rule);
		this.rules.push({ rule, remaining: rule.times ?? 1 });
	}

	clear(): void {
		this.rules = [];
	}

	pending(): FaultRule[] {
		return this.rules.filter((r) => r.remaining > 0).map((r) => ({ ...r.rule, times: r.remaining }));
	}

	/** Finds, consumes and returns the first rule of this stage matching the request. */
	take(stage: FaultStage, target: FaultTarget): FaultAction | undefined {
		for (const active of this.rules) {
			if (active.remaining <= 0) continue;
			const type = active.rule.action.type;
			const ruleStage: FaultStage = ARRIVAL_ACTIONS.has(type) ? 'arrival' : RESPONSE_ACTIONS.has(type) ? 'response' : 'accept';
			if (ruleStage !== stage) continue;
			if (stage === 'accept' && target.kind !== 'submit' && target.kind !== 'sync') continue;
			if (!matches(active.rule, target)) continue;
			active.remaining -= 1;
			this.rules = this.rules.filter((r) => r.remaining > 0);
			return active.rule.action;
		}
		return undefined;
	}
}

function matches(rule: FaultRule, target: FaultTarget): boolean {
	const kind: FaultKind = rule.match?.kind ?? 'any';
	if (kind === 'any' ? !ANY_KINDS.has(target.kind) : kind !== target.kind) return false;
	if (rule.match?.model !== undefined && rule.match.model !== target.model) return false;
	if (rule.match?.taskId !== undefined && rule.match.taskId !== target.taskId) return false;
	return true;
}

function validateRule(rule: FaultRule): void {
	if (!rule || typeof rule !== 'object' || !rule.action || typeof rule.action !== 'object') {
		throw new Error('A fault rule needs an action');
	}
	const a = rule.action;
	const known = [
		'http',
		'reset',
		'reset-after-accept',
		'http-after-accept',
		'delay',
		'fail-task',
		'partial',
		'moderation',
		'replace-body',
		'reset-mid-body',
		'truncate-body',
	];
	if (!known.includes(a.type)) throw new Error(`Unknown fault action type: ${String((a as { type: unknown }).type)}`);
	if ((a.type === 'http' || a.type === 'http-after-accept') && !(Number.isInteger(a.status) && a.status >= 100 && a.status <= 599)) {
		throw new Error('http faults need an HTTP status');
	}
	if (a.type === 'delay' && !(typeof a.ms === 'number' && a.ms >= 0)) throw new Error('delay faults need ms >= 0');
	if (a.type === 'partial' && !(Number.isInteger(a.failed) && a.failed >= 1)) throw new Error('partial faults need failed >= 1');
	if (a.type === 'moderation' && a.code !== 'DataInspectionFailed' && a.code !== 'IPInfringementSuspect') {
		throw new Error('moderation faults need code DataInspectionFailed or IPInfringementSuspect');
	}
	if (a.type === 'replace-body' && !(typeof a.contentType === 'string' && typeof a.body === 'string')) {
		throw new Error('replace-body faults need contentType and body strings');
	}
	if ((a.type === 'reset-mid-body' || a.type === 'truncate-body') && a.keepBytes !== undefined && !(Number.isInteger(a.keepBytes) && a.keepBytes >= 0)) {
		throw new Error('keepBytes must be an integer >= 0');
	}
	if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) throw new Error('times must be >= 1');
}
