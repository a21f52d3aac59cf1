// Browser checks of the Alibaba Wan node in the real n8n editor (Chromium via playwright-core).
// Each check drives the editor as a user would and asserts what the user sees; selectors are the
// data-test-id attributes n8n's own Playwright tests use. The workflows are created through the REST
// API the editor itself calls, from the node description the running n8n serves, so they follow the
// node's current version and parameters.
import { randomUUID } from 'node:crypto';
import { assert } from './lib/workflows.mjs';

const PKG = 'n8n-nodes-alibaba-wan';
const NODE_TYPE = `${PKG}.alibabaWan`;
const NODE_NAME = 'Alibaba Wan';
const CRED_TYPE = 'alibabaDashScopeApi';
const MANUAL_TRIGGER = 'n8n-nodes-base.manualTrigger';
/** What a user types into the node panel; the node must be among the results of each. */
const SEARCH_TERMS = [
	{ term: 'wan', maxRank: 3 },
	{ term: 'alibaba', maxRank: 1 },
	{ term: 'image edit', maxRank: 1 },
];
/** Counters of requests that create (and bill) tasks in the emulator. */
const BILLED = ['submissions', 'submitAttempts', 'syncCalls'];

const TRIGGER_NAME = "When clicking 'Execute workflow'";

function escapeRe(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The node description n8n serves, and how to write parameters for its newest version. */
async function nodeDescription(rest) {
	const r = await rest.req('GET', '/types/nodes.json');
	assert(r.status === 200 && Array.isArray(r.json), `GET /types/nodes.json: HTTP ${r.status}`);
	const versions = r.json.filter((d) => d.name === NODE_TYPE);
	assert(versions.length, `${NODE_TYPE} is not in /types/nodes.json`);
	const latest = (d) => (Array.isArray(d.version) ? Math.max(...d.version) : d.version);
	const desc = versions.sort((a, b) => latest(b) - latest(a))[0];
	const version = desc.defaultVersion ?? latest(desc);
	const props = desc.properties.filter((p) => {
		const v = p.displayOptions?.show?.['@version'];
		return !v || v.some((x) => x === version || (typeof x === 'object' && x?._cnd && versionMatches(x._cnd, version)));
	});
	/** operation value → { resource value or undefined, action label } */
	const operations = new Map();
	for (const p of props.filter((q) => q.name === 'operation')) {
		const resources = p.displayOptions?.show?.resource;
		for (const o of p.options ?? []) operations.set(o.value, { resource: resources?.[0], action: o.action ?? o.name });
	}
	const hasResource = props.some((p) => p.name === 'resource');
	/** Parameters for one operation: resource (when the version has one) + operation + the rest. */
	const params = (operation, rest_) => {
		const op = operations.get(operation);
		assert(op, `${NODE_TYPE} v${version} has no operation ${operation} (has ${[...operations.keys()].join(', ')})`);
		return { ...(hasResource && op.resource ? { resource: op.resource } : {}), operation, ...rest_ };
	};
	/** Display name of a model option for an operation (what the dropdown shows). */
	const modelName = (operation, modelId) => {
		for (const p of props.filter((q) => q.name === 'model')) {
			const ops = p.displayOptions?.show?.operation;
			if (ops && !ops.includes(operation)) continue;
			const o = (p.options ?? []).find((x) => x.value === modelId);
			if (o) return o.name;
		}
		throw new Error(`no model option ${modelId} for ${operation}`);
	};
	return { desc, version, operations, params, modelName, hasResource };
}

function versionMatches(cnd, version) {
	if ('gte' in cnd) return version >= cnd.gte;
	if ('lte' in cnd) return version <= cnd.lte;
	if ('eq' in cnd) return version === cnd.eq;
	return true;
}

/** A workflow of Manual Trigger → the given Wan nodes in a row, created through POST /rest/workflows. */
async function createWorkflow(c, name, wanNodes) {
	const nodes = [
		{ id: randomUUID(), name: TRIGGER_NAME, type: MANUAL_TRIGGER, typeVersion: 1, position: [0, 0], parameters: {} },
		...wanNodes.map((n, i) => ({
			id: randomUUID(),
			name: n.name,
			type: NODE_TYPE,
			typeVersion: c.node.version,
			position: [260 * (i + 1), 0],
			parameters: n.parameters,
			credentials: n.credentials ?? { [CRED_TYPE]: { id: c.cred.id, name: c.cred.name } },
		})),
	];
	const connections = {};
	for (let i = 0; i + 1 < nodes.length; i++) connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	const r = await c.rest.req('POST', '/rest/workflows', {
		name,
		nodes,
		connections,
		active: false,
		settings: { executionOrder: 'v1', saveManualExecutions: true },
	});
	assert(r.status === 200 && r.json?.data?.id, `POST /rest/workflows "${name}": HTTP ${r.status} ${r.text.slice(0, 300)}`);
	return r.json.data.id;
}

async function openWorkflow(page, id) {
	await page.goto(`/workflow/${id}`);
	await page.getByTestId('canvas-node').first().waitFor({ state: 'visible' });
	await dismissPopups(page);
}

/** n8n shows a few one-time hints on a fresh instance; they would cover what we click or photograph. */
async function dismissPopups(page) {
	for (const el of await page.getByTestId('close-button').all()) await el.click({ timeout: 1000 }).catch(() => {});
	await dismissToasts(page);
}

/** Close n8n's toasts ("Workflow executed successfully") so they do not cover a screenshot. */
async function dismissToasts(page) {
	for (const el of await page.locator('.el-notification .el-notification__closeBtn').all()) await el.click({ timeout: 1000 }).catch(() => {});
	await page.locator('.el-notification').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {});
}

function canvasNode(page, name) {
	return page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
}

async function openNode(page, name) {
	await canvasNode(page, name).dblclick();
	await page.getByTestId('ndv').waitFor({ state: 'visible' });
	await page.getByTestId('node-parameters').waitFor({ state: 'visible' });
}

async function closeNode(page) {
	await page.getByTestId('ndv-close-button').click();
	await page.getByTestId('ndv').waitFor({ state: 'hidden' });
}

/** Result names of the node panel's search, in the order shown. */
async function searchNodePanel(page, term) {
	const search = page.getByTestId('node-creator-search-bar');
	await search.fill('');
	await search.fill(term);
	const root = page.getByTestId('node-creator');
	// Results re-render as the search settles: wait until two reads agree.
	let prev = null;
	for (let i = 0; i < 20; i++) {
		await page.waitForTimeout(250);
		const names = (await root.getByTestId('node-creator-item-name').allInnerTexts()).map((s) => s.trim());
		if (prev && names.join('|') === prev.join('|') && names.length) return names;
		prev = names;
	}
	return prev ?? [];
}

async function openNodePanel(page) {
	await page.getByTestId('node-creator-plus-button').click();
	await page.getByTestId('node-creator').waitFor({ state: 'visible' });
}

/** Visible labels of the NDV's parameters (fixedCollection entries included). */
async function parameterLabels(page) {
	const texts = await page.getByTestId('node-parameters').getByTestId('input-label').allInnerTexts();
	return texts.map((t) => t.trim().split('\n')[0].trim()).filter(Boolean);
}

async function selectOption(page, parameterName, optionName) {
	const input = page.getByTestId(`parameter-input-${parameterName}`).first();
	await input.click();
	await page.getByRole('option', { name: new RegExp(`^${escapeRe(optionName)}`) }).first().click();
	// The panel re-renders from the new value: wait until the dropdown shows it.
	await input.locator('input').first().evaluate(
		(el, want) =>
			new Promise((resolve, reject) => {
				const t0 = Date.now();
				const tick = () => (el.value === want ? resolve() : Date.now() - t0 > 10_000 ? reject(new Error(`dropdown shows "${el.value}", not "${want}"`)) : setTimeout(tick, 50));
				tick();
			}),
		optionName,
	);
	await page.waitForTimeout(200);
}

async function executeWorkflow(page) {
	await page.getByTestId('execute-workflow-button').click();
}

function delta(before, after) {
	return Object.fromEntries(BILLED.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

/** Every emulator counter that moved (any request at all reaches one: submissions, queries, lists, rejected…). */
function movedCounters(before, after) {
	return Object.keys(after).filter((k) => typeof after[k] === 'number' && after[k] !== (before[k] ?? 0)).map((k) => `${k} ${before[k] ?? 0}->${after[k]}`);
}

export function browserChecks(ctx) {
	/** Shared state between the checks (ids of created workflows, the node description). */
	const s = {};
	const setup = async (c) => {
		if (s.node) return;
		s.node = await nodeDescription(c.rest);
		c.node = s.node;
	};
	const withNode = (fn) => async (c) => {
		await setup(c);
		c.node = s.node;
		return fn(c);
	};
	return [
		{
			name: `node panel search finds ${NODE_NAME} by ${SEARCH_TERMS.map((t) => `"${t.term}"`).join(', ')}`,
			run: withNode(async (c) => {
				const { page } = c.browser;
				s.searchWf = await createWorkflow(c, 'Browser: node panel', []);
				await openWorkflow(page, s.searchWf);
				await openNodePanel(page);
				const found = [];
				const problems = [];
				for (const { term, maxRank } of SEARCH_TERMS) {
					const names = await searchNodePanel(page, term);
					const rank = names.indexOf(NODE_NAME) + 1;
					await c.browser.shot(`search-${term.replace(/\W+/g, '-')}`);
					if (!rank) problems.push(`"${term}": ${NODE_NAME} not among ${names.length} results (${names.slice(0, 8).join(', ') || 'none'})`);
					else if (rank > maxRank) problems.push(`"${term}": ${NODE_NAME} ranks ${rank}, expected <= ${maxRank} (${names.slice(0, rank).join(', ')})`);
					found.push(`"${term}" #${rank || '-'}/${names.length}`);
				}
				assert(!problems.length, problems.join('; '));
				return found.join(', ');
			}),
		},
		{
			name: 'actions appear grouped by resource (Image, Task)',
			run: withNode(async (c) => {
				const { page } = c.browser;
				// Continues in the node panel opened by the search check (search "alibaba", open the node).
				if (!(await page.getByTestId('node-creator').isVisible())) {
					await openWorkflow(page, s.searchWf ?? (await createWorkflow(c, 'Browser: node panel', [])));
					await openNodePanel(page);
				}
				const names = await searchNodePanel(page, 'alibaba');
				assert(names.includes(NODE_NAME), `${NODE_NAME} is not among the node panel's results for "alibaba" (${names.join(', ') || 'none'}): its actions cannot be reached`);
				await page.getByTestId('node-creator').getByTestId('node-creator-item-name').filter({ hasText: new RegExp(`^${NODE_NAME}$`) }).first().click();
				const root = page.getByTestId('node-creator');
				await root.getByTestId('node-creator-category-item').filter({ hasText: /^Actions/ }).first().waitFor({ state: 'visible' });
				await page.waitForTimeout(300);
				await c.browser.shot('actions', { picture: 'node-panel-actions.png' });
				// The actions list, in the order shown: item-iterator-item rows are either a section label
				// ("Image actions") or an action (with a node-creator-item-name).
				const rows = await root.getByTestId('item-iterator-item').evaluateAll((els) =>
					els.map((e) => {
						const name = e.querySelector('[data-test-id="node-creator-item-name"]');
						return name ? { kind: 'action', text: name.textContent.trim() } : { kind: 'section', text: e.textContent.trim() };
					}),
				);
				const sections = {};
				let current = null;
				for (const r of rows) {
					if (r.kind === 'section') {
						current = r.text;
						sections[current] = [];
					} else if (current) sections[current].push(r.text);
				}
				const image = Object.keys(sections).find((k) => /^image\b/i.test(k));
				const task = Object.keys(sections).find((k) => /^task\b/i.test(k));
				const layout = Object.entries(sections)
					.map(([k, v]) => `${k}: ${v.join(', ')}`)
					.join(' | ');
				assert(image && task, `expected sections "Image" and "Task"; the panel shows ${layout || `no sections, only the actions ${rows.map((r) => r.text).join(', ')}`}`);
				for (const a of ['Generate an image', 'Edit an image', 'Fuse images', 'Generate an image set']) {
					assert(sections[image].includes(a), `"${a}" is not under ${image} (${sections[image].join(', ')})`);
				}
				for (const a of ['Wait for a task', 'Cancel a task']) assert(sections[task].includes(a), `"${a}" is not under ${task} (${sections[task].join(', ')})`);
				// Choosing an action adds the node with that resource and operation already set.
				await root.getByTestId('item-iterator-item').filter({ hasText: /^Edit an image$/ }).first().click();
				await page.getByTestId('ndv').waitFor({ state: 'visible' });
				const title = (await page.getByTestId('ndv').getByTestId('node-title-container').innerText()).trim();
				const value = (p) => page.getByTestId(`parameter-input-${p}`).locator('input').first().inputValue();
				const added = { resource: c.node.hasResource ? await value('resource') : '-', operation: await value('operation') };
				await c.browser.shot('action-added');
				await closeNode(page);
				assert(added.operation === 'Edit Image' && (!c.node.hasResource || added.resource === 'Image'), `"Edit an image" added a node with resource "${added.resource}", operation "${added.operation}"`);
				assert(title === 'Edit an image', `"Edit an image" added a node named "${title}", not after its action`);
				return `${layout}; "Edit an image" adds "${title}" (${added.resource} / ${added.operation})`;
			}),
		},
		{
			name: 'Fuse Images and Edit Image panels: Region Boxes shown for Wan 2.7, hidden for Wan 2.6 and 2.5',
			run: withNode(async (c) => {
				const { page } = c.browser;
				const images = { image: [{ inputType: 'binary', binaryPropertyName: 'data' }, { inputType: 'binary', binaryPropertyName: 'logo' }] };
				// Each panel opens on the first model; the others are chosen in the Model dropdown, as a user would.
				const panels = [
					{
						name: 'Fuse Images',
						operation: 'fuseImages',
						parameters: { imagesFrom: 'list', images, prompt: 'Put the logo from image 2 on the mug in image 1' },
						ownFields: ['Prompt', 'Images'],
						models: [['wan2.7-image', 2], ['wan2.6-image', 0], ['wan2.5-i2i-preview', 0]],
					},
					{
						name: 'Edit Image',
						operation: 'editImage',
						parameters: { inputType: 'binary', binaryPropertyName: 'data', prompt: 'Make the background white' },
						ownFields: ['Prompt', 'Input Binary Field'],
						models: [['wan2.7-image-pro', 1], ['wan2.6-image', 0], ['wan2.5-i2i-preview', 0]],
					},
				];
				s.fieldsWf = await createWorkflow(
					c,
					'Browser: fields per model',
					panels.map((p) => ({ name: p.name, parameters: c.node.params(p.operation, { model: p.models[0][0], ...p.parameters }) })),
				);
				await openWorkflow(page, s.fieldsWf);
				const seen = [];
				const problems = [];
				for (const panel of panels) {
					await openNode(page, panel.name);
					for (const [i, [model, expected]] of panel.models.entries()) {
						const label = c.node.modelName(panel.operation, model);
						if (i > 0) await selectOption(page, 'model', label);
						const labels = await parameterLabels(page);
						// An absent field only counts once the operation's own fields are there.
						assert(panel.ownFields.every((f) => labels.includes(f)), `${panel.name} / ${model}: the panel has not rendered its fields (labels: ${labels.join(', ')})`);
						const boxes = labels.filter((l) => /^Region Boxes/.test(l)).length;
						await c.browser.shot(`${panel.operation}-${model}`);
						seen.push(`${panel.name} ${model}: ${boxes}`);
						if (boxes !== expected) {
							problems.push(
								expected
									? `${panel.name} / ${model}: ${boxes} Region Boxes field(s), expected ${expected} (labels: ${labels.join(', ')})`
									: `${panel.name} / ${model}: Region Boxes shown although ${label} rejects them`,
							);
						}
					}
					await closeNode(page);
				}
				assert(!problems.length, problems.join('; '));
				return `Region Boxes fields — ${seen.join(', ')}`;
			}),
		},
		{
			name: 'workflow runs from the editor (Execute workflow) and the output panel shows the image',
			run: withNode(async (c) => {
				const { page } = c.browser;
				const gen = 'Generate product photo';
				const edit = 'Edit: marble counter';
				s.runWf = await createWorkflow(c, 'Product photo: generate, then edit', [
					{ name: gen, parameters: c.node.params('generateImage', { model: 'wan2.7-image', prompt: 'Studio product photo of a white ceramic coffee mug on a light grey background, soft shadows', size: '1K', numberOfImages: 1 }) },
					{ name: edit, parameters: c.node.params('editImage', { model: 'wan2.7-image-pro', inputType: 'binary', binaryPropertyName: 'data', prompt: 'Place the mug on a white marble kitchen counter in warm morning light; keep the mug unchanged', size: '1K', numberOfImages: 1 }) },
				]);
				await openWorkflow(page, s.runWf);
				const before = await c.emulator.counters();
				await executeWorkflow(page);
				// Each node turns green (success icon) when its run finished without error.
				for (const n of [gen, edit]) await canvasNode(page, n).getByTestId('canvas-node-status-success').waitFor({ state: 'visible', timeout: 120_000 });
				const after = await c.emulator.counters();
				const d = delta(before, after);
				assert(d.submissions + d.syncCalls >= 2, `the emulator saw ${JSON.stringify(d)} for two image nodes`);
				await c.browser.shot('run-canvas');
				await openNode(page, edit);
				const out = page.getByTestId('output-panel');
				const input = page.getByTestId('ndv-input-panel');
				// Binary view of both panels: the generated image goes in, the edited one comes out.
				const shown = {};
				for (const [label, panel] of [['input', input], ['output', out]]) {
					const binaryTab = panel.getByTestId('radio-button-binary');
					if (await binaryTab.count()) await binaryTab.click();
					await panel.getByTestId('ndv-view-binary-data').first().click();
					const img = panel.getByTestId('ndv-data-container').locator('img').first();
					await img.waitFor({ state: 'visible', timeout: 30_000 });
					const size = await img.evaluate(async (el) => {
						if (!el.complete) await new Promise((r) => el.addEventListener('load', r, { once: true }));
						return { w: el.naturalWidth, h: el.naturalHeight, src: el.getAttribute('src') };
					});
					assert(size.w > 0 && size.h > 0, `${label} panel image did not load (${JSON.stringify(size)})`);
					shown[label] = size;
				}
				await dismissToasts(page);
				await c.browser.shot('run-edit-image-in-out', { picture: 'editor-edit-image.png' });
				await closeNode(page);
				return `emulator +${d.submissions} async/+${d.syncCalls} sync; input image ${shown.input.w}x${shown.input.h}, output image ${shown.output.w}x${shown.output.h}`;
			}),
		},
		{
			name: 'Service Runware: chosen by its credential; its models and options in the panel; a run from the editor shows the cost; choosing the DashScope credential switches the node to DashScope',
			run: withNode(async (c) => {
				assert(c.extraEmulators?.runware, 'the Runware emulator is not running (suite extraEmulators)');
				const { page } = c.browser;
				const name = 'Product shot on Runware';
				const parameters = {
					service: 'runware',
					...c.node.params('generateImage', { model: 'wan2.7-image', prompt: 'Studio product photo of a red running shoe, white background', size: 'custom', customSize: '1024*768', numberOfImages: 1 }),
					serviceOptions: { imageFormat: 'PNG', includeCost: true },
				};
				s.runwareWf = await createWorkflow(c, 'Runware: product shot', [
					{ name, parameters, credentials: { runwareApi: { id: 'wanE2ERunwareCrd', name: 'Runware (e2e emulator)' } } },
				]);
				await openWorkflow(page, s.runwareWf);
				await openNode(page, name);
				const labels = await parameterLabels(page);
				for (const field of ['Model', 'Prompt', 'Runware Options']) assert(labels.includes(field), `the Runware panel has no "${field}" (labels: ${labels.join(', ')})`);
				// n8n treats the option that picks the credential (Service) as the node's authentication: the panel
				// shows no Service field; the Credential dropdown is where the service is chosen.
				await page.getByTestId('node-credentials-select').first().click();
				await page.waitForTimeout(300);
				const credentials = (await page.getByRole('option').allInnerTexts()).map((t) => t.trim().replace(/\s+/g, ' '));
				await c.browser.shot('runware-credentials', { picture: 'editor-runware-credential.png' });
				await page.keyboard.press('Escape');
				assert(credentials.some((t) => /Runware API/.test(t)) && credentials.some((t) => /DashScope/.test(t)), `the Credential dropdown does not offer both services' credentials: ${credentials.join(' | ')}`);
				// The Model dropdown lists only what Runware serves.
				await page.getByTestId('parameter-input-model').first().click();
				const offered = (await page.getByRole('option').allInnerTexts()).map((t) => t.trim().split('\n')[0]);
				await page.keyboard.press('Escape');
				assert(offered.length === 2 && offered.every((o) => /^Wan 2\.7 Image/.test(o)), `Runware's Model dropdown lists ${offered.join(', ')}`);
				const panelText = await page.getByTestId('node-parameters').innerText();
				assert(/768 to 2048 pixels each, multiples of 16/.test(panelText) || labels.includes('Custom Size'), 'no Custom Size field');
				await c.browser.shot('runware-panel');
				await closeNode(page);
				const before = await c.extraEmulators.runware.counters();
				const dashScopeBefore = await c.emulator.counters();
				await executeWorkflow(page);
				await canvasNode(page, name).getByTestId('canvas-node-status-success').waitFor({ state: 'visible', timeout: 120_000 });
				const after = await c.extraEmulators.runware.counters();
				const dashScopeAfter = await c.emulator.counters();
				assert(after.tasksCreated - before.tasksCreated === 1, `the Runware emulator created ${after.tasksCreated - before.tasksCreated} task(s)`);
				assert(!movedCounters(dashScopeBefore, dashScopeAfter).length, 'a request reached the DashScope emulator from a Runware node');
				await openNode(page, name);
				const jsonTab = page.getByTestId('output-panel').getByTestId('radio-button-json');
				if (await jsonTab.count()) await jsonTab.click();
				await page.waitForTimeout(300);
				const out = await page.getByTestId('output-panel').innerText();
				await dismissToasts(page);
				await c.browser.shot('runware-run');
				await closeNode(page);
				assert(/cost/.test(out) && /0\.03/.test(out), `the output shows no cost: ${out.slice(0, 300)}`);
				// Last (it changes the node): choosing the DashScope credential switches the node to DashScope.
				await openNode(page, name);
				const modelOptions = async () => {
					await page.getByTestId('parameter-input-model').first().click();
					const texts = (await page.getByRole('option').allInnerTexts()).map((t) => t.trim().split('\n')[0]);
					await page.keyboard.press('Escape');
					return texts;
				};
				const chooseCredential = async (re) => {
					await page.getByTestId('node-credentials-select').first().click();
					await page.getByRole('option').filter({ hasText: re }).first().click();
					await page.waitForTimeout(500);
				};
				await chooseCredential(/DashScope/);
				const dashScopeModels = await modelOptions();
				await c.browser.shot('runware-switched-to-dashscope');
				assert(dashScopeModels.length === 3 && dashScopeModels.includes('Wan 2.6 Image'), `with the DashScope credential the Model dropdown lists ${dashScopeModels.join(', ')}`);
				await closeNode(page);
				// The workflow is left unsaved; nothing else opens it.
				return `credential dropdown: ${credentials.join(' | ')}; with DashScope's the Model offers ${dashScopeModels.length} models; with Runware's the Model offers ${offered.join(', ')}; fields ${labels.filter((l) => ['Service', 'Model', 'Prompt', 'Runware Options'].includes(l)).join(', ')}; run: Runware +1 task, DashScope untouched, output with cost`;
			}),
		},
		{
			name: 'over-long prompt: the error shows in the editor, nothing reached the emulator',
			run: withNode(async (c) => {
				const { page } = c.browser;
				const name = 'Generate banner';
				const model = 'wan2.6-image';
				const line = 'A summer sale banner for our ceramic mug collection, bright colours, clean typography. ';
				const prompt = line.repeat(Math.ceil(2100 / line.length)).trim();
				s.errWf = await createWorkflow(c, 'Banner: prompt too long', [{ name, parameters: c.node.params('generateImage', { model, prompt, numberOfImages: 1 }) }]);
				await openWorkflow(page, s.errWf);
				const before = await c.emulator.counters();
				await executeWorkflow(page);
				// n8n 2.41 marks a failed node with canvas-node-status-mark-error (older editors: canvas-node-status-error).
				await canvasNode(page, name).locator('[data-test-id^="canvas-node-status-"][data-test-id*="error"]').first().waitFor({ state: 'visible', timeout: 60_000 });
				await openNode(page, name);
				const err = page.getByTestId('output-panel').getByTestId('node-error-message');
				await err.waitFor({ state: 'visible' });
				const message = (await err.innerText()).trim();
				const panelText = await page.getByTestId('output-panel').innerText();
				const after = await c.emulator.counters();
				await dismissToasts(page);
				await c.browser.shot('error-prompt-too-long', { picture: 'editor-error-before-billing.png' });
				await closeNode(page);
				const moved = movedCounters(before, after);
				assert(!moved.length, `a request reached the emulator despite the invalid prompt: ${moved.join(', ')}`);
				assert(/prompt/i.test(panelText) && /2,?000/.test(panelText), `the error does not name the prompt and its limit: ${panelText.slice(0, 400)}`);
				assert(/item 1\b/i.test(panelText), `the error does not name the item (Item 1): ${panelText.slice(0, 400)}`);
				return `"${message.slice(0, 140)}"; emulator counters unchanged (submissions ${after.submissions}, syncCalls ${after.syncCalls}, rejected ${after.rejected})`;
			}),
		},
		{
			name: 'credential Test with a key bound to another region names the region',
			run: async (c) => {
				const { page } = c.browser;
				const before = await c.emulator.counters();
				await page.goto(`/home/credentials/${c.cred.id}`);
				const modal = page.getByTestId('editCredential-modal');
				await modal.waitFor({ state: 'visible' });
				const key = modal.getByTestId('parameter-input-apiKey').locator('input');
				await key.fill('sk-emu-cn-beijing');
				// Saving runs the credential's test (what the Test/Retry button does) and shows its result in a banner.
				await modal.getByTestId('credential-save-button').click();
				const config = modal.getByTestId('node-credentials-config-container');
				await config.getByText(/couldn.t connect with these settings/i).first().waitFor({ state: 'visible', timeout: 60_000 });
				const more = config.getByText('More details', { exact: true });
				if (await more.count()) await more.first().click();
				await page.waitForTimeout(300);
				await dismissToasts(page);
				await c.browser.shot('credential-wrong-region');
				const after = await c.emulator.counters();
				const d = delta(before, after);
				assert(BILLED.every((k) => d[k] === 0), `the credential test created a task: ${JSON.stringify(d)}`);
				// The banner's details: what the credential test answered, between the banner title and the first field.
				const text = await config.innerText();
				const detail = (text.match(/couldn.t connect with these settings\s*(?:Retry\s*)?([\s\S]*?)\n\s*API Key/i)?.[1] ?? text).replace(/\s+/g, ' ').trim();
				assert(/region/i.test(detail), `the test result does not mention the region: "${detail.slice(0, 300)}"`);
				return `banner: "${detail.slice(0, 200)}"; emulator ${BILLED.map((k) => `${k} +${d[k]}`).join(', ')}`;
			},
		},
	];
}
