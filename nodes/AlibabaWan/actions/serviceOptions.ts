/**
 * A service's own options (services/types.ts `ServiceOption`): the panel's "<Service> Options" collection,
 * shown only for that service, and the per-item reader that checks every value the user set against the
 * option's rule before anything is sent. Nothing here knows any one service.
 */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { services, type ServiceOption, type ServiceOptionValue, type ServiceOptionValues, type WanService } from '../services';
import { fieldFailure, toBoolean, toChoice, toNumber, toText } from './parameterReaders';

const imageOperations = ['generateImage', 'editImage', 'fuseImages', 'generateImageSet'];

/** The collection's parameter name, the same for every service (only one is shown at a time). */
export const SERVICE_OPTIONS = 'serviceOptions';

function appliesTo(option: ServiceOption, operation: string): boolean {
	return (option.operations ?? imageOperations).includes(operation);
}

function optionProperty(option: ServiceOption): INodeProperties {
	const base = { displayName: option.displayName, name: option.name, description: option.description };
	switch (option.type) {
		case 'options':
			return { ...base, type: 'options', default: option.default, options: option.options.map((choice) => ({ ...choice })) };
		case 'number':
			return {
				...base,
				type: 'number',
				default: option.default,
				typeOptions: { minValue: option.min, maxValue: option.max, ...(option.integer ? { numberPrecision: 0 } : {}) },
			};
		case 'boolean':
			return { ...base, type: 'boolean', default: option.default };
		case 'string':
			return { ...base, type: 'string', default: option.default, ...(option.placeholder ? { placeholder: option.placeholder } : {}) };
	}
}

/** One "<Service> Options" collection per service that has options for `operation`. */
export function serviceOptionsProperties(operation: string): INodeProperties[] {
	return services.flatMap((service) => {
		const options = (service.options ?? []).filter((option) => appliesTo(option, operation));
		if (!options.length) return [];
		return [
			{
				displayName: `${service.shortName} Options`,
				name: SERVICE_OPTIONS,
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: options.map(optionProperty).sort((a, b) => a.displayName.localeCompare(b.displayName)),
				displayOptions: { show: { operation: [operation], service: [service.id] } },
			} satisfies INodeProperties,
		];
	});
}

/** The options the user set on this item, each checked against its rule ("Item 2: Runware Options › Quality…"). */
export function readServiceOptions(ctx: IExecuteFunctions, itemIndex: number, service: WanService, operation: string): ServiceOptionValues {
	const offered = (service.options ?? []).filter((option) => appliesTo(option, operation));
	if (!offered.length) return {};
	const fail = fieldFailure(ctx, itemIndex);
	// skipValidation: n8n's own check would fail with "[item 0]"; the readers name "Item 1".
	const raw = ctx.getNodeParameter(SERVICE_OPTIONS, itemIndex, {}, { skipValidation: true });
	const given = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
	const values: Record<string, ServiceOptionValue> = {};
	for (const option of offered) {
		if (!(option.name in given)) continue;
		const label = `${service.shortName} Options › ${option.displayName}`;
		const value = readOption(option, given[option.name], label, fail);
		if (value !== undefined) values[option.name] = value;
	}
	// Keys of another service's options (the collection shares one parameter name) stay where they are:
	// they are never sent, and the user could not see them to remove them.
	return values;
}

function readOption(option: ServiceOption, value: unknown, label: string, fail: (message: string) => never): ServiceOptionValue | undefined {
	switch (option.type) {
		case 'options':
			return toChoice(
				value,
				label,
				option.options.map((choice) => choice.value),
				option.default,
				fail,
			);
		case 'number':
			return (
				toNumber(value, label, fail, { min: option.min, max: option.max, integer: option.integer, unit: option.unit }) ??
				fail(`${label} is empty: enter ${option.min} to ${option.max}${option.unit ? ` ${option.unit}` : ''}, or remove the option`)
			);
		case 'boolean':
			return toBoolean(value, label, fail);
		case 'string':
			return toText(value, label, fail);
	}
}
