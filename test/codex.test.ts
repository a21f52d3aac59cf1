/**
 * The codex (AlibabaWan.node.json) decides where n8n's node panel lists the node. n8n 2.41's editor
 * treats an AI-category node without "Root Nodes" in `subcategories.AI` as a sub-node (model, memory,
 * tool…) and leaves it out of search and of the AI list, so a user could not find the node at all.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import { AlibabaWan } from '../nodes/AlibabaWan/AlibabaWan.node';

interface Codex {
	node: string;
	categories: string[];
	subcategories?: Record<string, string[]>;
	alias?: string[];
	resources?: { primaryDocumentation?: Array<{ url: string }> };
}

const root = join(__dirname, '..');
const codex = JSON.parse(readFileSync(join(root, 'nodes/AlibabaWan/AlibabaWan.node.json'), 'utf8')) as Codex;
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };

describe('node codex (AlibabaWan.node.json)', () => {
	test('names the node type n8n registers: <package>.<description name>', () => {
		expect(codex.node).toBe(`${packageJson.name}.${new AlibabaWan().description.name}`);
	});

	test('an AI-category node is declared a root node, so the editor search shows it', () => {
		expect(codex.categories).toContain('AI');
		for (const category of codex.categories) {
			// Every category the node claims must have its subcategory list; for AI, "Root Nodes" is the
			// value the 2.41 node creator checks before it lists the node in search.
			if (category === 'AI') expect(codex.subcategories?.AI ?? []).toContain('Root Nodes');
		}
	});

	test('aliases cover what a user types to find it', () => {
		const words = [codex.node, ...(codex.alias ?? [])].join(' ').toLowerCase();
		for (const term of ['wan', 'alibaba', 'image edit', 'dashscope']) expect(words).toContain(term);
	});
});

test("the panel's Docs link opens this pack's README, not Alibaba's API page", () => {
	const homepage = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { homepage: string }).homepage;
	expect(codex.resources?.primaryDocumentation?.map((doc) => doc.url)).toEqual([`${homepage}#readme`]);
});
