/**
 * The service boundary (nodes/AlibabaWan/services/types.ts): the shared pipeline talks to a service only
 * through the interface and the registry. These checks read the source itself:
 * - no shared file imports from a service's folder (services/<id>/…), only services/index.ts or types.ts;
 * - no shared file names a registered service by its id or short name in code (a branch on the service);
 * - the registry lists every service folder, and each service's models are in the model catalog.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { modelIds } from '../nodes/AlibabaWan/catalog/modelCatalog';
import { defaultService, getService, serviceProperty, services } from '../nodes/AlibabaWan/services';
import { validityText } from '../nodes/AlibabaWan/tasks/taskResults';

const root = path.join(__dirname, '..', 'nodes', 'AlibabaWan');
/** The shared pipeline: everything that must work the same whichever service runs the task. */
const sharedFolders = ['actions', 'images', 'output', 'tasks', 'request', 'catalog', 'transport'];

function sourceFiles(folder: string): string[] {
	return readdirSync(folder).flatMap((name) => {
		const full = path.join(folder, name);
		if (statSync(full).isDirectory()) return sourceFiles(full);
		return name.endsWith('.ts') ? [full] : [];
	});
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const found: string[] = [];
	for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) found.push(match[1]);
	return found;
}

/** Code without comments, so a comment may mention a service while the code may not branch on it. */
function codeOf(file: string): string {
	return readFileSync(file, 'utf8')
		.replace(/\/\*[\s\S]*?\*\//g, '')
		.replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const sharedFiles = sharedFolders.flatMap((folder) => sourceFiles(path.join(root, folder)));
const serviceFolders = readdirSync(path.join(root, 'services')).filter((name) =>
	statSync(path.join(root, 'services', name)).isDirectory(),
);

test('the shared folders hold source files (the scan below scans something)', () => {
	expect(sharedFiles.length).toBeGreaterThan(20);
	expect(sharedFiles.map((file) => path.relative(root, file))).toEqual(
		expect.arrayContaining(['actions/router.ts', 'actions/imageTask.ts', 'tasks/waitForTask.ts', 'output/binaryItems.ts', 'transport/httpClient.ts']),
	);
});

test.each(sharedFiles.map((file) => [path.relative(root, file), file]))(
	'%s imports no service folder, only the interface and the registry',
	(_name, file) => {
		const intoServiceFolder = importsOf(file).filter((specifier) => {
			if (!specifier.startsWith('.')) return false;
			const target = path.relative(root, path.resolve(path.dirname(file), specifier));
			return target.startsWith(`services${path.sep}`) && !['services/index', 'services/types'].includes(target.split(path.sep).join('/'));
		});
		expect(intoServiceFolder).toEqual([]);
	},
);

/**
 * The one allowed mention: the key n8n errors keep their details under (`context.dashScope`), named
 * before other services existed and kept for workflows that read it. It names a field, not a branch.
 */
const legacyNames = [/export const ERROR_DETAILS_KEY = 'dashScope';/];

test.each(sharedFiles.map((file) => [path.relative(root, file), file]))('%s does not name a service in its code', (_name, file) => {
	const code = legacyNames.reduce((text, pattern) => text.replace(pattern, ''), codeOf(file));
	const named = services.flatMap((service) =>
		[service.id, service.shortName].filter((name) => new RegExp(`['"\`]${name}['"\`]|\\b${name}\\b\\s*[=!]==`, 'i').test(code)),
	);
	expect(named).toEqual([]);
});

test('a file that imports a service folder or names a service is caught (the scan itself works)', () => {
	const fake = path.join(root, 'actions', 'fake.ts');
	const specifier = '../services/dashscope/dashScopeApi';
	const target = path.relative(root, path.resolve(path.dirname(fake), specifier));
	expect(target.startsWith(`services${path.sep}`)).toBe(true);
	expect(/(?:\bfrom\s+)['"]([^'"]+)['"]/.exec(`import { getTask } from '${specifier}';`)?.[1]).toBe(specifier);
	const branch = `if (session.service.id === '${defaultService.id}') {}`;
	expect(new RegExp(`['"\`]${defaultService.id}['"\`]`).test(branch)).toBe(true);
});

test('the registry lists one service per folder, and each serves only catalog models', () => {
	expect(services.map((service) => service.id).sort()).toEqual([...serviceFolders].sort());
	for (const service of services) {
		expect(service.models.length).toBeGreaterThan(0);
		for (const model of service.models) expect(modelIds).toContain(model);
		expect(getService(service.id)).toBe(service);
	}
	expect(new Set(services.map((service) => service.credentialType)).size).toBe(services.length);
});

test('a workflow without a service parameter runs on DashScope, today\'s behaviour', () => {
	expect(getService(undefined)).toBe(defaultService);
	expect(getService('')).toBe(defaultService);
	expect(defaultService.credentialType).toBe('alibabaDashScopeApi');
	expect(getService('no-such-service')).toBeUndefined();
	expect(serviceProperty.default).toBe(defaultService.id);
	expect(serviceProperty.options).toEqual(services.map((service) => ({ name: service.displayName, value: service.id })));
});

test('how long a task stays collectable comes from the service, in words for the messages', () => {
	expect(defaultService.taskValidityMs).toBe(24 * 60 * 60 * 1000);
	expect(validityText(defaultService.taskValidityMs)).toBe('24 hours');
	expect(validityText(60 * 60 * 1000)).toBe('1 hour');
	expect(validityText(30 * 60 * 1000)).toBe('30 minutes');
});

test.each(serviceFolders)('services/%s imports no other service\'s folder', (folder) => {
	const others = serviceFolders.filter((name) => name !== folder);
	const crossing = sourceFiles(path.join(root, 'services', folder)).flatMap((file) =>
		importsOf(file).filter((specifier) => {
			if (!specifier.startsWith('.')) return false;
			const target = path.relative(path.join(root, 'services'), path.resolve(path.dirname(file), specifier)).split(path.sep);
			return others.includes(target[0]);
		}),
	);
	expect(crossing).toEqual([]);
});

test('each service\'s credential type is a credential the package ships', () => {
	const shipped = (JSON.parse(readFileSync(path.join(root, '..', '..', 'package.json'), 'utf8')) as { n8n: { credentials: string[] } }).n8n.credentials;
	const names = shipped.map((file) => {
		const source = readFileSync(path.join(root, '..', '..', file.replace(/^dist\//, '').replace(/\.js$/, '.ts')), 'utf8');
		return /\bname = '([^']+)'/.exec(source)?.[1];
	});
	for (const service of services) expect(names).toContain(service.credentialType);
});
