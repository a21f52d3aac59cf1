// Bundles the node and the credentials into dist/ with undici, zod and pngjs inside, so the
// published package has no runtime dependencies. n8n-workflow stays external: n8n provides it.
//
// The node comes in two files: AlibabaWan.full.js (everything) and AlibabaWan.node.js, what n8n loads
// at start-up (nodes/AlibabaWan/lazyNode.ts): the full node's description, computed here, and an
// execute that loads AlibabaWan.full.js when a node first runs.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const common = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	legalComments: 'eof',
	sourcemap: false,
	logLevel: 'warning',
};
await build({
	...common,
	entryPoints: {
		'nodes/AlibabaWan/AlibabaWan.full': 'nodes/AlibabaWan/AlibabaWan.node.ts',
		'credentials/AlibabaDashScopeApi.credentials': 'credentials/AlibabaDashScopeApi.credentials.ts',
		'credentials/RunwareApi.credentials': 'credentials/RunwareApi.credentials.ts',
		'credentials/WanGatewayApi.credentials': 'credentials/WanGatewayApi.credentials.ts',
	},
	outdir: 'dist',
	external: ['n8n-workflow'],
});

const require = createRequire(import.meta.url);
const { AlibabaWan } = require('../dist/nodes/AlibabaWan/AlibabaWan.full.js');
const description = new AlibabaWan().description;
// Copied as JSON, so it must be plain data: a function (or other non-JSON value) would be lost silently.
const notJson = (value, path) => {
	if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)) return undefined;
	if (typeof value !== 'object' || (Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value))) return path;
	for (const [key, child] of Object.entries(value)) {
		const found = notJson(child, `${path}.${key}`);
		if (found) return found;
	}
	return undefined;
};
const bad = notJson(description, 'description');
if (bad) throw new Error(`${bad} is not plain JSON: the start-up file (lazyNode.ts) cannot carry it`);
const json = JSON.stringify(description);
await build({
	...common,
	entryPoints: { 'nodes/AlibabaWan/AlibabaWan.node': 'nodes/AlibabaWan/lazyNode.ts' },
	outdir: 'dist',
	external: ['n8n-workflow', './AlibabaWan.full.js'],
	define: { FULL_NODE_DESCRIPTION: JSON.stringify(json) },
});
