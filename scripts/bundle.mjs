// Bundles the node and the credentials into dist/ with undici, zod and pngjs inside, so the
// published package has no runtime dependencies. n8n-workflow stays external: n8n provides it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const entries = {
	'nodes/AlibabaWan/AlibabaWan.node': 'nodes/AlibabaWan/AlibabaWan.node.ts',
	'credentials/AlibabaDashScopeApi.credentials': 'credentials/AlibabaDashScopeApi.credentials.ts',
	'credentials/RunwareApi.credentials': 'credentials/RunwareApi.credentials.ts',
	'credentials/WanGatewayApi.credentials': 'credentials/WanGatewayApi.credentials.ts',
};
await build({
	entryPoints: entries,
	outdir: 'dist',
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	external: ['n8n-workflow'],
	legalComments: 'eof',
	sourcemap: false,
	logLevel: 'warning',
});
