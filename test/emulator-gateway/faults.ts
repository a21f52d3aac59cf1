/**
 * Injected faults, consulted in injection order at two points of a request:
 * - 'arrival' (http, reset, html): before auth and validation; nothing is generated;
 * - 'work' (slow-answer, error-after-work, reset-mid-answer, fewer-images): once per valid
 *   generation, as it starts; the work is done and billed, the fault shapes the answer.
 * A rule is consumed (times--) only when it applies. Without `match.kind`, 'html' targets result
 * downloads, work faults target generations and the others every API call (not downloads).
 */
import type { GatewayFaultAction, GatewayFaultKind, GatewayFaultRule, GatewayRequestKind } from './types';

export type FaultStage = 'arrival' | 'work';

const ARRIVAL: ReadonlySet<string> = new Set(['http', 'reset', 'html']);
const WORK: ReadonlySet<string> = new Set(['slow-answer', 'error-after-work', 'reset-mid-answer', 'fewer-images']);
const KINDS: readonly GatewayFaultKind[] = ['generation', 'models', 'result', 'other', 'api', 'any'];

export class GatewayFaultQueue {
	private rules: Array<{ rule: GatewayFaultRule; remaining: number }> = [];

	add(rule: GatewayFaultRule): void {
		validateRule(rule);
		this.rules.push({ rule, remaining: rule.times ?? 1 });
	}

	clear(): void {
		this.rules = [];
	}

	pending(): GatewayFaultRule[] {
		return this.rules.map((r) => ({ ...r.rule, times: r.remaining }));
	}

	take(stage: FaultStage, kind: GatewayRequestKind, model?: string): GatewayFaultAction | undefined {
		for (const active of this.rules) {
			const { action, match } = active.rule;
			if ((stage === 'arrival') !== ARRIVAL.has(action.type)) continue;
			const wanted = match?.kind ?? (action.type === 'html' ? 'result' : WORK.has(action.type) ? 'generation' : 'api');
			const kindOk = wanted === 'any' || wanted === kind || (wanted === 'api' && (kind === 'generation' || kind === 'models' || kind === 'other'));
			if (!kindOk || (match?.model !== undefined && match.model !== model)) continue;
			active.remaining -= 1;
			this.rules = this.rules.filter((r) => r.remaining > 0);
			return action;
		}
		return undefined;
	}
}

function validateRule(rule: GatewayFaultRule): void {
	if (!rule || typeof rule !== 'object' || !rule.action || typeof rule.action !== 'object') throw new Error('A fault rule needs an action');
	const a = rule.action;
	if (!ARRIVAL.has(a.type) && !WORK.has(a.type)) throw new Error(`Unknown fault action type: ${String((a as { type: unknown }).type)}`);
	if (a.type === 'http' && !(Number.isInteger(a.status) && a.status >= 100 && a.status <= 599)) throw new Error('http faults need an HTTP status');
	if (a.type === 'error-after-work' && a.status !== undefined && !(Number.isInteger(a.status) && a.status >= 400 && a.status <= 599)) {
		throw new Error('error-after-work needs a status from 400 to 599');
	}
	if (a.type === 'slow-answer' && !(typeof a.ms === 'number' && a.ms >= 0)) throw new Error('slow-answer faults need ms >= 0');
	if (a.type === 'reset-mid-answer' && a.fraction !== undefined && !(a.fraction >= 0 && a.fraction < 1)) throw new Error('fraction must be in [0, 1)');
	if (a.type === 'fewer-images' && !(Number.isInteger(a.count) && a.count >= 0)) throw new Error('fewer-images needs count >= 0');
	if (a.type === 'http' && a.retryAfter !== undefined && !(Number.isInteger(a.retryAfter) && a.retryAfter >= 0)) throw new Error('retryAfter must be whole seconds');
	if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) throw new Error('times must be >= 1');
	if (rule.match?.kind !== undefined && !KINDS.includes(rule.match.kind)) throw new Error(`match.kind must be one of ${KINDS.join(', ')}`);
}
