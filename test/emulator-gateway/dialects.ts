/**
 * Dialect presets (GATEWAY_API.md §8). 'seed' is seed 002 exactly; 'images' is the other common
 * shape (Modelverse / new-api): an `images` array, `W*H` sizes, thinking_mode off by default.
 */
import type { GatewayDialect, GatewayDialectName, GatewayEmulatorOptions } from './types';

export const DIALECT_PRESETS: Record<GatewayDialectName, GatewayDialect> = {
	seed: {
		name: 'seed',
		imageField: 'image',
		sizeStyle: 'WxH',
		defaultSize: '2K',
		defaultThinkingMode: true,
		defaultN: 1,
		defaultNSequential: 12,
		promptOptionalWithImages: false,
		unknownFields: 'reject',
	},
	images: {
		name: 'images',
		imageField: 'images',
		sizeStyle: 'W*H',
		defaultSize: '2K',
		defaultThinkingMode: false,
		defaultN: 1,
		defaultNSequential: 12,
		promptOptionalWithImages: false,
		unknownFields: 'reject',
	},
};

export function isDialectName(value: unknown): value is GatewayDialectName {
	return value === 'seed' || value === 'images';
}

/** The dialect an emulator runs with, checked. */
export function resolveDialect(option: GatewayEmulatorOptions['dialect']): GatewayDialect {
	const spec = typeof option === 'string' || option === undefined ? { preset: option ?? 'seed' } : option;
	const preset = spec.preset ?? 'seed';
	if (!isDialectName(preset)) throw new Error(`dialect preset must be seed or images, not ${String(preset)}`);
	const overrides: Partial<GatewayDialect> & { preset?: string } = { ...spec };
	delete overrides.preset;
	const dialect: GatewayDialect = { ...DIALECT_PRESETS[preset], ...overrides };
	if (dialect.imageField !== 'image' && dialect.imageField !== 'images') throw new Error('dialect.imageField must be image or images');
	if (dialect.sizeStyle !== 'WxH' && dialect.sizeStyle !== 'W*H') throw new Error('dialect.sizeStyle must be WxH or W*H');
	if (dialect.unknownFields !== 'reject' && dialect.unknownFields !== 'ignore') throw new Error('dialect.unknownFields must be reject or ignore');
	for (const key of ['defaultN', 'defaultNSequential'] as const) {
		if (!Number.isInteger(dialect[key]) || dialect[key] < 1) throw new Error(`dialect.${key} must be a positive integer`);
	}
	return dialect;
}
