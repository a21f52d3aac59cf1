/**
 * Runware's own options (RUNWARE_API.md §4), shown in the "Runware Options" collection of the image
 * operations. Each is checked against its rule before anything is sent (actions/serviceOptions.ts) and
 * sent only when the user added it; otherwise Runware's default applies.
 */
import type { ServiceOption } from '../types';

/** `ttl` has a documented minimum of 60 s and no stated maximum (UNCONFIRMED): one day is the cap taken. */
export const urlLifetimeSeconds = { min: 60, max: 86_400 };

export const runwareOptions: readonly ServiceOption[] = [
	{
		displayName: 'Image Format',
		name: 'imageFormat',
		description: 'The format Runware produces (outputFormat). Default: JPG.',
		type: 'options',
		options: [
			{ name: 'JPG', value: 'JPG' },
			{ name: 'PNG', value: 'PNG' },
			{ name: 'WEBP', value: 'WEBP' },
		],
		default: 'JPG',
	},
	{
		displayName: 'Image Quality',
		name: 'imageQuality',
		description: 'JPG/WEBP quality, 20 to 99 (outputQuality). Default: 95.',
		type: 'number',
		min: 20,
		max: 99,
		integer: true,
		default: 95,
	},
	{
		displayName: 'Include Cost',
		name: 'includeCost',
		description: 'Whether Runware reports what each image cost (USD); the node puts it on each output item as "cost"',
		type: 'boolean',
		default: true,
	},
	{
		displayName: 'URL Lifetime (Seconds)',
		name: 'urlLifetimeSeconds',
		description: `How long the result URLs stay downloadable (ttl), ${urlLifetimeSeconds.min} to ${urlLifetimeSeconds.max} seconds. Runware's default is not documented: the node downloads the images at once either way.`,
		type: 'number',
		min: urlLifetimeSeconds.min,
		max: urlLifetimeSeconds.max,
		integer: true,
		unit: 'seconds',
		default: 3600,
	},
];
