#!/usr/bin/env node
/**
 * n8n's community-package scanner (@n8n/scan-community-package), run on this checkout: the same
 * ESLint config the scanner builds (`buildScanConfig`), on the same source files it scans after
 * publishing (SOURCE_FILE_PATTERNS: package.json, nodes/**, credentials/**), inline config ignored
 * like the scanner does — with ONLY the n8n Cloud rules off. Those are the rules the plugin's
 * `recommended` config has and its `recommendedWithoutN8nCloudSupport` config lacks (computed
 * below, not listed by hand): no-restricted-globals (timers, `process`) and no-restricted-imports
 * (`node:` modules, the bundled undici). This pack is not a Cloud package (README "Lint").
 *
 * Usage: npm run lint:scan   (part of npm run lint; exit 1 and the scanner's report on any violation)
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const scannerPath = require.resolve('@n8n/scan-community-package/scanner/scanner.mjs');
const scanner = await import(pathToFileURL(scannerPath).href);
// The scanner's own ESLint and plugin versions, not the project's.
const fromScanner = createRequire(scannerPath);
const { ESLint } = await import(pathToFileURL(fromScanner.resolve('eslint')).href);
const { n8nCommunityNodesPlugin } = await import(
	pathToFileURL(fromScanner.resolve('@n8n/eslint-plugin-community-nodes')).href
);

const withCloud = n8nCommunityNodesPlugin.configs.recommended.rules;
const withoutCloud = n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport.rules;
const cloudOnlyRules = Object.keys(withCloud).filter((rule) => !(rule in withoutCloud));

const config = [
	...(await scanner.buildScanConfig()),
	{ rules: Object.fromEntries(cloudOnlyRules.map((rule) => [rule, 'off'])) },
];

const eslint = new ESLint({ cwd: root, allowInlineConfig: false, overrideConfigFile: true, overrideConfig: config });
const { globSync } = fromScanner('fast-glob');
const list = (patterns) =>
	globSync(patterns, { cwd: root, absolute: true, ignore: ['node_modules/**', '**/package-lock.json'] });

// The scanner's two legs: the source it downloads from GitHub, and the published tarball's *.js
// (dist/, with the bundled undici/zod/pngjs) — the second only when dist/ has been built.
const legs = [['source', list(scanner.SOURCE_FILE_PATTERNS)]];
const built = list(['dist/**/*.js']);
if (built.length) legs.push(['dist', [...list(['package.json']), ...built]]);
else console.log('dist/ is not built: only the source leg is scanned (run npm run build for the tarball leg)');

let failed = false;
for (const [leg, files] of legs) {
	const results = await eslint.lintFiles(files);
	const errors = results.reduce((sum, result) => sum + result.errorCount, 0);
	if (errors) {
		failed = true;
		console.error(await (await eslint.loadFormatter('stylish')).format(results.filter((result) => result.errorCount > 0)));
	}
	console.log(`Scanner rules, ${leg}: ${errors ? `${errors} error(s)` : 'passed'} in ${files.length} files`);
}
console.log(`Cloud-only rules off: ${cloudOnlyRules.join(', ')}`);
process.exit(failed ? 1 : 0);
