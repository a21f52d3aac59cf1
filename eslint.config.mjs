// n8n's community lint without the Cloud-only rules (see README "Lint"): the node bundles undici,
// whose proxy and timer support needs `process` and timers that the Cloud rules forbid.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		// Tests, the emulator, the demo and benchmarks are not node code: they print, use fake keys
		// (emulator keys, fake OSS ids) and throw plain errors.
		files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
		rules: {
			'no-console': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			'@typescript-eslint/no-require-imports': 'off',
			// Tests and benchmarks start the emulator and n8n as child processes.
			'@n8n/community-nodes/no-dangerous-functions': 'off',
		},
	},
];
