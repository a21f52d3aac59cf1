/** Emulator: HTTP control API via EmulatorClient, request recording, counters, and the CLI process. */
import { spawn } from 'node:child_process';
import path from 'node:path';

import { EMULATOR_KEYS, startEmulator, type Emulator } from './emulator';
import { EmulatorClient } from './emulator/client';
import { call, expectError, expectTask, msgBody, query, smallPng, submit } from './emulator/fixtures';

let emu: Emulator;
let client: EmulatorClient;
beforeAll(async () => {
	emu = await startEmulator({ timing: { pendingMs: 20, runningMs: 50 } });
	client = new EmulatorClient(emu.url);
});
afterAll(() => emu.close());
beforeEach(() => client.reset());

const t2i = () => msgBody('wan2.7-image', 'a paper boat', [], { size: '768*768' });

test('timing, clock and keys over HTTP', async () => {
	expect(await client.timing()).toEqual({ pendingMs: 20, runningMs: 50, syncDelayMs: 300, listLagMs: 0 });
	expect(await client.setTiming({ pendingMs: 5000 })).toEqual({ pendingMs: 5000, runningMs: 50, syncDelayMs: 300, listLagMs: 0 });
	const id = expectTask(await submit(emu, t2i()));
	expect((await query(emu, id)).body.output.task_status).toBe('PENDING');
	const before = await client.now();
	const after = await client.advanceClock(6000);
	expect(after - before).toBeGreaterThanOrEqual(6000);
	expect((await query(emu, id)).body.output.task_status).toBe('SUCCEEDED');

	await client.addKey('sk-e2e', 'us-east-1');
	expectTask(await submit(emu, msgBody('wan2.6-image', 'x', [smallPng()], { n: 1 }), { region: 'us-east-1', key: 'sk-e2e' }));
	await client.reset();
	expect((await client.timing()).pendingMs).toBe(20);
	expectError(await call(emu, '/tasks', { region: 'us-east-1', key: 'sk-e2e' }), 401, 'InvalidApiKey');
});

test('faults and counters over HTTP', async () => {
	await client.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 502 } });
	expectError(await submit(emu, t2i()), 502, 'InternalError');
	await client.injectFault({ action: { type: 'http', status: 500 } });
	await client.clearFaults();
	expectTask(await submit(emu, t2i()));
	const counters = await client.counters();
	expect(counters).toMatchObject({
		submissions: 1,
		submissionsByKey: { [EMULATOR_KEYS['ap-southeast-1']]: 1 },
		submissionsByModel: { 'wan2.7-image': 1 },
		submitAttempts: 2,
		rejected: 1,
		throttled: 0,
	});
	await expect(client.injectFault({ action: { type: 'bogus' } } as never)).rejects.toThrow(/Unknown fault action/);
});

test('requests() records kind, region, lower-case headers, the full body and the answer', async () => {
	const image = smallPng();
	const created = await submit(emu, msgBody('wan2.7-image', 'edit', [image], { size: '768*768' }), { region: 'cn-beijing', headers: { 'X-Custom-Thing': 'yes' } });
	const id = expectTask(created);
	await query(emu, id, { region: 'cn-beijing' });
	emu.advanceClock(5000);
	const done = await query(emu, id, { region: 'cn-beijing' });
	await fetch(done.body.output.choices[0].message.content[0].image).then((r) => r.arrayBuffer());
	await call(emu, '/no/such/path');

	const recorded = await client.requests();
	expect(recorded.map((r) => r.kind)).toEqual(['submit', 'query', 'query', 'result', 'other']);
	const [sub, , , result, other] = recorded;
	expect(sub).toMatchObject({ method: 'POST', path: '/cn-beijing/api/v1/services/aigc/image-generation/generation', region: 'cn-beijing', status: 200 });
	expect(sub.headers['x-custom-thing']).toBe('yes');
	expect(sub.headers['x-dashscope-async']).toBe('enable');
	expect(sub.headers.authorization).toBe(`Bearer ${EMULATOR_KEYS['cn-beijing']}`);
	expect((sub.body as { input: { messages: Array<{ content: Array<{ image?: string }> }> } }).input.messages[0].content[1].image).toBe(image);
	expect(sub.responseBody).toEqual(created.body);
	expect(typeof sub.at).toBe('number');
	expect(result).toMatchObject({ kind: 'result', method: 'GET', status: 200, region: 'cn-beijing' });
	expect(other.status).toBe(404);
	expect(emu.requests()).toHaveLength(5);
});

test('task snapshot over HTTP; unknown ids → undefined', async () => {
	const id = expectTask(await submit(emu, t2i()));
	const snap = await client.task(id);
	expect(snap).toMatchObject({ taskId: id, mode: 'async', model: 'wan2.7-image', region: 'ap-southeast-1', width: 768, height: 768, requestedImages: 1 });
	expect(await client.task('nope')).toBeUndefined();
});

test('baseUrl helpers', () => {
	expect(client.baseUrl('eu-central-1')).toBe(`${emu.url}/eu-central-1/api/v1`);
	expect(client.baseUrl()).toBe(`${emu.url}/api/v1`);
});

test('CLI: prints the URL and keys, serves, exits cleanly on SIGTERM', async () => {
	const root = path.resolve(__dirname, '..');
	const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'test/emulator/cli.ts', '--port', '0', '--pending-ms', '10', '--running-ms', '10'], {
		cwd: root,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 20_000);
		child.stdout.on('data', (d: Buffer) => {
			out += d.toString();
			const m = /DashScope emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		});
		child.stderr.on('data', (d: Buffer) => (out += d.toString()));
		child.on('exit', (code) => reject(new Error(`CLI exited early (${code}): ${out}`)));
	});
	try {
		const remote = new EmulatorClient(url);
		await remote.waitUntilReady();
		expect((await remote.timing()).pendingMs).toBe(10);
		await new Promise((r) => setTimeout(r, 50));
		expect(out).toContain('sk-emu-eu-central-1');
		const res = await fetch(`${url}/cn-beijing/api/v1/tasks/x`, { headers: { Authorization: `Bearer ${EMULATOR_KEYS['cn-beijing']}` } });
		expect(((await res.json()) as { output: { task_status: string } }).output.task_status).toBe('UNKNOWN');
	} finally {
		const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
		child.kill('SIGTERM');
		expect(await exited).toBe(0);
	}
});
