/**
 * What n8n loads at start-up (dist/nodes/AlibabaWan/AlibabaWan.node.js, from nodes/AlibabaWan/lazyNode.ts):
 * the full node's description, copied at build time, and nothing of the transport, images or services
 * until a node runs (AlibabaWan.full.js is loaded then; every engine suite runs through that path).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { AlibabaWan } from '../nodes/AlibabaWan/AlibabaWan.node';

const dist = join(__dirname, '..', 'dist', 'nodes', 'AlibabaWan');

describe('the start-up file of the built node', () => {
	test('describes the node exactly as the full node does', () => {
		const { AlibabaWan: Loaded } = require(join(dist, 'AlibabaWan.node.js')) as { AlibabaWan: new () => AlibabaWan };
		expect(JSON.parse(JSON.stringify(new Loaded().description))).toEqual(JSON.parse(JSON.stringify(new AlibabaWan().description)));
	});

	test('does not load the full node (undici, zod, the services) until a node runs', () => {
		const script = [
			"require('n8n-workflow');",
			`const { AlibabaWan } = require(${JSON.stringify(join(dist, 'AlibabaWan.node.js'))});`,
			'new AlibabaWan();',
			'process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((file) => !file.includes("node_modules"))));',
		].join('\n');
		const run = spawnSync(process.execPath, ['-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
		expect(run.stderr).toBe('');
		const loaded = JSON.parse(run.stdout) as string[];
		expect(loaded).toEqual([join(dist, 'AlibabaWan.node.js')]);
	});
});
