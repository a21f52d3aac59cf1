/**
 * Injected faults, consulted in injection order at two points:
 * - 'arrival' (http, reset, delay, replace-body, finished-only): once per HTTP request, before auth and validation;
 * - 'accept' (reset-after-accept, http-after-accept, fail-task, partial): once per valid
 *   imageInference task, as it is created.
 * A rule is consumed (times--) only when it applies.
 */
import type { RunwareFaultAction, RunwareFaultRule, RunwareRequestKind } from './types';

export type FaultStage = 'arrival' | 'accept';

const ARRIVAL: ReadonlySet<RunwareFaultAction['type']> = new Set(['http', 'reset', 'delay', 'replace-body', 'finished-only']);
const KNOWN: ReadonlySet<string> = new Set([...ARRIVAL, 'reset-after-accept', 'http-after-accept', 'fail-task', 'partial']);
const API_KINDS: ReadonlySet<RunwareRequestKind> = new Set(['inference', 'poll', 'auth']);

export interface FaultTarget {
	kind: RunwareRequestKind;
	/** Models and taskUUIDs the request carries (a rule matches when any one does). */
	models: string[];
	taskUUIDs: string[];
}

export class RunwareFaultQueue {
	private rules: Array<{ rule: RunwareFaultRule; remaining: number }> = [];

	add(rule: RunwareFaultRule): void {
		validateRule(rule);
		this.rules.push({ rule, remaining: rule.times ?? 1 });
	}

	clear(): void {
		this.rules = [];
	}

	pending(): RunwareFaultRule[] {
		return this.rules.map((r) => ({ ...r.rule, times: r.remaining }));
	}

	take(stage: FaultStage, target: FaultTarget): RunwareFaultAction | undefined {
		for (const active of this.rules) {
			const ruleStage: FaultStage = ARRIVAL.has(active.rule.action.type) ? 'arrival' : 'accept';
			if (ruleStage !== stage || !matches(active.rule, target)) continue;
			active.remaining -= 1;
			this.rules = this.rules.filter((r) => r.remaining > 0);
			return active.rule.action;
		}
		return undefined;
	}
}

function matches(rule: RunwareFaultRule, target: FaultTarget): boolean {
	const kind = rule.match?.kind ?? 'any';
	if (kind === 'any' ? !API_KINDS.has(target.kind) : kind !== target.kind) return false;
	if (rule.match?.model !== undefined && !target.models.includes(rule.match.model)) return false;
	if (rule.match?.taskUUID !== undefined && !target.taskUUIDs.includes(rule.match.taskUUID)) return false;
	return true;
}

function validateRule(rule: RunwareFaultRule): void {
	if (!rule || typeof rule !== 'object' || !rule.action || typeof rule.action !== 'object') throw new Error('A fault rule needs an action');
	const a = rule.action;
	if (!KNOWN.has(a.type)) throw new Error(`Unknown fault action type: ${String((a as { type: unknown }).type)}`);
	if ((a.type === 'http' || a.type === 'http-after-accept') && !(Number.isInteger(a.status) && a.status >= 100 && a.status <= 599)) {
		throw new Error('http faults need an HTTP status');
	}
	if (a.type === 'delay' && !(typeof a.ms === 'number' && a.ms >= 0)) throw new Error('delay faults need ms >= 0');
	if (a.type === 'partial' && !(Number.isInteger(a.failed) && a.failed >= 1)) throw new Error('partial faults need failed >= 1');
	if (a.type === 'replace-body' && !(typeof a.contentType === 'string' && typeof a.body === 'string')) {
		throw new Error('replace-body faults need contentType and body strings');
	}
	if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) throw new Error('times must be >= 1');
	const kinds = ['inference', 'poll', 'auth', 'result', 'other', 'any'];
	if (rule.match?.kind !== undefined && !kinds.includes(rule.match.kind)) throw new Error(`match.kind must be one of ${kinds.join(', ')}`);
}
