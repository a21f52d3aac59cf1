/** Tests run TypeScript through ts-jest (transpile only; `npm run typecheck` type-checks). Engine
 * tests load the built, bundled node from dist/, exactly what n8n loads. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { diagnostics: false }],
	},
	testTimeout: 60000,
	maxWorkers: 2,
	globalSetup: '<rootDir>/test/reliability/globalSetup.js',
	globalTeardown: '<rootDir>/test/reliability/writeReport.js',
	reporters: ['default', '<rootDir>/test/harness/summaryReporter.js'],
};
