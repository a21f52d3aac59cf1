/**
 * Typed reading of parameters, whatever an expression turned them into. n8n hands a node the value an
 * expression produced (an object, an array, a number, null…) even for a text field; String() on it would
 * send "[object Object]" and bill it. Every reader here either returns the type the field means or throws
 * a NodeOperationError naming the item (1-based), the field, what was received, and how to fix it.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

/** An error about one item: "Item 2: …". */
export function itemError(ctx: IExecuteFunctions, itemIndex: number, message: string): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), `Item ${itemIndex + 1}: ${message}`, { itemIndex });
}

/** Throws the error for one field of the item being read. */
export type FieldFailure = (message: string) => never;

export function fieldFailure(ctx: IExecuteFunctions, itemIndex: number): FieldFailure {
	return (message) => {
		throw itemError(ctx, itemIndex, message);
	};
}

/** A short description of what an expression produced, for messages. */
export function describeValue(value: unknown): string {
	if (value === null) return 'null (empty)';
	if (value === undefined) return 'nothing (undefined)';
	if (Array.isArray(value)) return `an array with ${value.length} entr${value.length === 1 ? 'y' : 'ies'} (${preview(value)})`;
	if (typeof value === 'object') return `an object (${preview(value)})`;
	if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
	return `${typeof value} ${String(value)}`;
}

function preview(value: unknown): string {
	let json: string;
	try {
		json = JSON.stringify(value) ?? String(value);
	} catch {
		json = String(value);
	}
	return json.length > 60 ? `${json.slice(0, 60)}…` : json;
}

/** How to turn a wrong-typed expression result into text, by what it is. */
function textFix(value: unknown): string {
	if (Array.isArray(value)) return "join the entries into one text, e.g. {{ $json.tags.join(', ') }}, or pick one, e.g. {{ $json.tags[0] }}";
	if (value !== null && typeof value === 'object') return 'pick the field that holds the text, e.g. {{ $json.product.name }} instead of {{ $json.product }}';
	return 'give it a text value';
}

/**
 * Text: a string as is, a finite number as its decimal text, null/undefined as "" (callers decide whether
 * empty is allowed). Objects, arrays and booleans are refused.
 */
export function toText(value: unknown, label: string, fail: FieldFailure): string {
	if (typeof value === 'string') return value;
	if (value === null || value === undefined) return '';
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return fail(`${label} must be text, but the expression gave ${describeValue(value)}: ${textFix(value)}`);
}

export function readText(
	ctx: IExecuteFunctions,
	itemIndex: number,
	name: string,
	label: string,
	fallback = '',
): string {
	return toText(ctx.getNodeParameter(name, itemIndex, fallback), label, fieldFailure(ctx, itemIndex));
}

const numberText = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export interface NumberRule {
	min: number;
	max: number;
	integer?: boolean;
	/** What the number means, for the fix: e.g. "seconds". */
	unit?: string;
}

/**
 * A number: a finite number, or text that is exactly a number ("3" from a spreadsheet cell). Returns
 * undefined for null/undefined/"" so the caller can apply its default or refuse. With a rule, the range
 * and wholeness are checked here (options); task parameters leave that to the catalog's schema.
 */
export function toNumber(value: unknown, label: string, fail: FieldFailure, rule?: NumberRule): number | undefined {
	if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return undefined;
	let number: number | undefined;
	if (typeof value === 'number') number = value;
	else if (typeof value === 'string' && numberText.test(value.trim())) number = Number(value.trim());
	const range = rule ? ` between ${rule.min} and ${rule.max}${rule.unit ? ` ${rule.unit}` : ''}` : '';
	if (number === undefined || !Number.isFinite(number)) {
		return fail(`${label} must be a number${range}, but the expression gave ${describeValue(value)}: enter a number${rule?.integer ? ' without decimals' : ''}`);
	}
	if (rule) {
		if (rule.integer && !Number.isInteger(number)) fail(`${label} must be a whole number${range}; got ${number}: round it`);
		if (number < rule.min || number > rule.max) fail(`${label} must be${range}; got ${number}`);
	}
	return number;
}

/** A yes/no: a boolean, or the text "true"/"false". Returns undefined for null/undefined/"". */
export function toBoolean(value: unknown, label: string, fail: FieldFailure): boolean | undefined {
	if (value === null || value === undefined || value === '') return undefined;
	if (typeof value === 'boolean') return value;
	if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
	return fail(`${label} must be true or false, but the expression gave ${describeValue(value)}: use true or false`);
}

/** One of a fixed set of values (an options field given by an expression). */
export function toChoice<T extends string>(value: unknown, label: string, allowed: readonly T[], fallback: T, fail: FieldFailure): T {
	if (value === null || value === undefined || value === '') return fallback;
	if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
	return fail(`${label} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, but the expression gave ${describeValue(value)}`);
}

/** The item's "Options" collection (an object, whatever an expression inside it produced). */
export function readOptions(ctx: IExecuteFunctions, itemIndex: number): IDataObject {
	// skipValidation: n8n's own check would fail with a 0-based "[item 0]"; the readers name "Item 1".
	const options = ctx.getNodeParameter('options', itemIndex, {}, { skipValidation: true });
	return options && typeof options === 'object' && !Array.isArray(options) ? (options as IDataObject) : {};
}

// -------------------------------------------------------------------------------------------- task IDs

/**
 * Task IDs are UUID-like on every service: letters, digits, "-" and "_". Anything else ("..", ".", "/", spaces)
 * would address another endpoint of the same host once put in the URL path, so it is refused.
 */
const taskIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Task IDs from text (separated by commas, spaces, semicolons or new lines) or an array of texts. */
export function toTaskIds(value: unknown, label: string, fail: FieldFailure, service: string): string[] {
	const entries = Array.isArray(value) ? value : [value];
	const ids: string[] = [];
	for (const entry of entries) {
		if (entry !== null && typeof entry === 'object') {
			fail(
				`${label} must be task ID text, but the expression gave ${describeValue(entry)}: pick the field that holds the ID, e.g. {{ $json.taskId }}`,
			);
		}
		ids.push(...toText(entry, label, fail).split(/[\s,;]+/).filter(Boolean));
	}
	if (!ids.length) {
		fail(`${label} is empty: give the task ID a "Submit Only" run returned, e.g. {{ $json.taskId }}`);
	}
	const bad = ids.find((id) => !taskIdPattern.test(id));
	if (bad !== undefined) {
		fail(
			`${label}: "${bad.length > 60 ? `${bad.slice(0, 60)}…` : bad}" is not a ${service} task ID (letters, digits, "-" and "_" only, ` +
				'at most 128): use the taskId field of a "Submit Only" result',
		);
	}
	return ids;
}
