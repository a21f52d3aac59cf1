/** Runware emulator: the JSON-array envelope, authentication (header or task, not both), task UUIDs, batches, routes, CLI. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { startRunwareEmulator } from './emulator-runware';
import { expectError, getResponse, inference, KEY, post, setupRunware } from './emulator-runware/fixtures';

const emu = setupRunware({ timing: { queueMs: 1000, perImageMs: 1000, syncDelayMs: 0 } });

describe('envelope', () => {
	test.each([
		['not JSON', 'invalidJSON', '{oops'],
		['an object, not an array', 'invalidRequestBody', JSON.stringify(inference())],
		['an empty array', 'invalidRequestBody', '[]'],
		['an array of strings', 'invalidRequestBody', '["imageInference"]'],
	])('%s → 400 %s, nothing created', async (_name, code, raw) => {
		const answer = await post(emu, undefined, { raw });
		expectError(answer, 400, code);
		expect(answer.body.data).toEqual([]);
		expect(emu.counters().tasksCreated).toBe(0);
	});

	test('Content-Type must be JSON', async () => {
		expectError(await post(emu, [inference()], { headers: { 'Content-Type': 'text/plain' } }), 400, 'invalidContentType');
	});

	test('only POST on the API path; other paths 404', async () => {
		const get = await fetch(emu.apiUrl, { headers: { Authorization: `Bearer ${KEY}` } });
		expect(get.status).toBe(405);
		expect(((await get.json()) as { errors: Array<{ code: string }> }).errors[0].code).toBe('methodNotAllowed');
		const other = await fetch(`${emu.url}/v2`, { method: 'POST', body: '[]' });
		expect(other.status).toBe(404);
	});

	test('a one-task body answers {data: [one item]} matched by taskUUID', async () => {
		const task = inference({ seed: 7 });
		const answer = await post(emu, [task]);
		expect(answer.status).toBe(200);
		expect(answer.body.errors).toBeUndefined();
		expect(answer.body.data).toHaveLength(1);
		expect(answer.body.data![0]).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID, seed: 7 });
		expect(answer.body.data![0].imageUUID).not.toBe(task.taskUUID);
	});

	test('a batch with one bad task: HTTP 200, data for the good one, errors for the bad one (by taskUUID)', async () => {
		const good = inference();
		const bad = inference({ width: 1000 });
		const answer = await post(emu, [bad, good]);
		expect(answer.status).toBe(200);
		expect(answer.body.data!.map((d) => d.taskUUID)).toEqual([good.taskUUID]);
		expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'invalidWidth', taskUUID: bad.taskUUID, taskType: 'imageInference' })]);
		expect(emu.counters()).toMatchObject({ submissions: 2, tasksCreated: 1 });
	});

	test.each([
		['no taskType', 'missingTaskType', { taskType: undefined }],
		['unknown taskType', 'invalidTaskType', { taskType: 'videoInference' }],
		['no taskUUID', 'missingTaskUUID', { taskUUID: undefined }],
		['taskUUID not a UUID', 'invalidTaskUUID', { taskUUID: 'task-1' }],
		['taskUUID v1, not v4', 'invalidTaskUUID', { taskUUID: 'a8098c1a-f86e-11da-bd1a-00112444be1e' }],
	])('%s → 400 %s', async (_name, code, over) => {
		expectError(await post(emu, [inference(over)]), 400, code);
		expect(emu.counters().tasksCreated).toBe(0);
	});

	test('the same taskUUID twice in one body: the second is a conflict', async () => {
		const task = inference();
		const answer = await post(emu, [task, { ...task }]);
		expect(answer.status).toBe(200);
		expect(answer.body.data).toHaveLength(1);
		expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'conflictTaskUUID', taskUUID: task.taskUUID })]);
		expect(emu.counters()).toMatchObject({ tasksCreated: 1, conflicts: 1 });
	});
});

describe('authentication', () => {
	test.each([
		['no header and no authentication task', null, undefined],
		['an unknown key', 'rw-wrong', undefined],
		['a non-Bearer scheme', null, { Authorization: `Basic ${KEY}` }],
	])('%s → 401 invalidApiKey (parameter apiKey, taskType authentication), nothing created', async (_name, key, headers) => {
		const err = expectError(await post(emu, [inference()], { key, headers }), 401, 'invalidApiKey');
		expect(err).toMatchObject({ parameter: 'apiKey', taskType: 'authentication' });
		expect(emu.counters()).toMatchObject({ tasksCreated: 0, authFailures: 1 });
	});

	test('the authentication task alone is the free credential check: no task, no cost', async () => {
		const answer = await post(emu, [{ taskType: 'authentication', apiKey: KEY }], { key: null });
		expect(answer.status).toBe(200);
		expect(answer.body.data).toEqual([{ taskType: 'authentication', connectionSessionUUID: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
		const session = randomUUID();
		const again = await post(emu, [{ taskType: 'authentication', apiKey: KEY, connectionSessionUUID: session }], { key: null });
		expect(again.body.data).toEqual([{ taskType: 'authentication', connectionSessionUUID: session }]);
		expect(emu.counters()).toMatchObject({ authTasks: 2, submissions: 0, tasksCreated: 0 });
	});

	test('a leading authentication task authenticates the tasks after it', async () => {
		const task = inference();
		const answer = await post(emu, [{ taskType: 'authentication', apiKey: KEY }, task], { key: null });
		expect(answer.status).toBe(200);
		expect(answer.body.data!.map((d) => d.taskType)).toEqual(['authentication', 'imageInference']);
		expect(emu.task(task.taskUUID as string)?.apiKey).toBe(KEY);
	});

	test('authentication task with a wrong key → 401', async () => {
		expectError(await post(emu, [{ taskType: 'authentication', apiKey: 'nope' }, inference()], { key: null }), 401, 'invalidApiKey');
		expect(emu.counters().tasksCreated).toBe(0);
	});

	test('header and authentication task together are refused (use one, not both)', async () => {
		expectError(await post(emu, [{ taskType: 'authentication', apiKey: KEY }, inference()]), 400, 'conflictingAuthentication');
		expect(emu.counters().tasksCreated).toBe(0);
	});

	test('authentication task not first, twice, or with extra keys → 400', async () => {
		expectError(await post(emu, [inference(), { taskType: 'authentication', apiKey: KEY }], { key: null }), 400, 'invalidRequestBody');
		const auth = { taskType: 'authentication', apiKey: KEY };
		expectError(await post(emu, [auth, auth], { key: null }), 400, 'invalidRequestBody');
		const extra = expectError(await post(emu, [{ ...auth, model: 'x' }], { key: null }), 400, 'unsupportedParameter');
		expect(extra.parameter).toBe('model');
	});

	test('keys can be added; tasks are private to the key that created them', async () => {
		emu.addKey('rw-team-b');
		const task = inference({ deliveryMethod: 'async' });
		expect((await post(emu, [task])).status).toBe(200);
		expectError(await post(emu, [getResponse(task.taskUUID)], { key: 'rw-team-b' }), 404, 'taskFailedOrNotFound');
		expect((await post(emu, [getResponse(task.taskUUID)])).status).toBe(200);
	});
});

test('a custom base path serves the API there only', async () => {
	const custom = await startRunwareEmulator({ basePath: '/proxy/runware/v1' });
	try {
		expect(custom.apiUrl).toBe(`${custom.url}/proxy/runware/v1`);
		const answer = await post(custom, [{ taskType: 'authentication', apiKey: KEY }], { key: null });
		expect(answer.status).toBe(200);
		expect((await fetch(`${custom.url}/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' })).status).toBe(404);
	} finally {
		await custom.close();
	}
});

describe('CLI', () => {
	/** Starts `npm run emulator`'s script with `args`, waits for the "listening on" line, stops it. */
	async function runCli(args: string[], check: (line: string) => Promise<void>): Promise<void> {
		const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'test/emulator/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		try {
			const line = await new Promise<string>((resolve, reject) => {
				let out = '';
				child.stdout.on('data', (chunk: Buffer) => {
					out += chunk.toString();
					const found = /^.*listening on http:\/\/\S+$/m.exec(out);
					if (found) resolve(found[0]);
				});
				child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
			});
			await check(line);
		} finally {
			child.kill('SIGTERM');
		}
	}

	test('--service runware starts the Runware emulator; it answers the authentication task', async () => {
		await runCli(['--service', 'runware', '--port', '0', '--sync-delay-ms', '0'], async (line) => {
			expect(line).toMatch(/^Runware emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
			const url = line.split(' ').pop() as string;
			const res = await fetch(`${url}/v1`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify([{ taskType: 'authentication', apiKey: KEY }]),
			});
			expect(res.status).toBe(200);
		});
	});

	test('without --service it is still the DashScope emulator', async () => {
		await runCli(['--port', '0'], async (line) => {
			expect(line).toMatch(/^DashScope emulator listening on /);
		});
	});
});

test('independence: the emulator imports nothing from nodes/ or credentials/ and no DashScope model knowledge', () => {
	const dir = join(__dirname, 'emulator-runware');
	const imports = readdirSync(dir)
		.filter((f) => f.endsWith('.ts'))
		.flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'|import\('([^']+)'\)/g)].map((m) => `${f}: ${m[1] ?? m[2]}`));
	expect(imports.length).toBeGreaterThan(10);
	const forbidden = imports.filter((i) => /nodes\/|credentials\/|emulator\/(models|validation|sizing|api|tasks|responses|state|server|index|fixtures|image-inputs|limits|errors)'?$/.test(i.split(': ')[1]));
	expect(forbidden).toEqual([]);
});
