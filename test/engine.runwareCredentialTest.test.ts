/**
 * The "Runware API" credential's Test button, run the way n8n 2.41's credentials tester runs it
 * (harness: runCredentialTestRequest, n8n-core's RoutingNode) against the Runware emulator: the free
 * `authentication` task, with the key in the task and no Authorization header (Runware takes one way
 * per request), no task created; a wrong key shows the 401 rule's message.
 */
import { RUNWARE_EMULATOR_KEYS, startRunwareEmulator, type RunwareEmulator } from './emulator-runware';
import { runCredentialTestRequest } from './harness/n8nEngine';

const { RunwareApi } = require('../dist/credentials/RunwareApi.credentials.js');
const rules = new RunwareApi().test.rules as Array<{ type: string; properties: { value: number; message: string } }>;

let rw: RunwareEmulator;
beforeAll(async () => {
	rw = await startRunwareEmulator();
});
afterAll(() => rw.close());
beforeEach(() => rw.reset());

async function testButton(apiKey: string, baseUrl = rw.apiUrl) {
	const { error } = await runCredentialTestRequest({ apiKey, baseUrl }, 'runwareApi');
	if (!error) return { status: 'OK' as const };
	const httpStatus = error.cause?.response?.status;
	const rule = rules.find((entry) => entry.type === 'responseCode' && entry.properties.value === httpStatus);
	return { status: 'Error' as const, httpStatus, message: rule?.properties.message ?? error.message };
}

test('a valid key passes with one authentication task: no header, no task, nothing billed', async () => {
	expect(await testButton(RUNWARE_EMULATOR_KEYS[0])).toEqual({ status: 'OK' });
	const [request] = rw.requests();
	expect(rw.requests()).toHaveLength(1);
	expect(request.body).toEqual([{ taskType: 'authentication', apiKey: RUNWARE_EMULATOR_KEYS[0] }]);
	expect(request.headers.authorization).toBeUndefined();
	expect(rw.counters()).toMatchObject({ authTasks: 1, submissions: 0, tasksCreated: 0 });
});

test('a key with stray spaces (pasted) is trimmed, as the node trims it', async () => {
	expect(await testButton(`  ${RUNWARE_EMULATOR_KEYS[1]}\n`)).toEqual({ status: 'OK' });
});

test('a base URL with a trailing slash works', async () => {
	expect(await testButton(RUNWARE_EMULATOR_KEYS[0], `${rw.apiUrl}/`)).toEqual({ status: 'OK' });
});

test('a wrong key shows the 401 rule\'s message', async () => {
	const outcome = await testButton('rw-not-a-key');
	expect(outcome).toMatchObject({ status: 'Error', httpStatus: 401 });
	expect(outcome.message).toMatch(/Runware did not accept the API key/);
	// n8n's request helper asks once more after a 401 (its re-authentication); still nothing is created.
	expect(rw.counters().authFailures).toBeGreaterThanOrEqual(1);
	expect(rw.counters()).toMatchObject({ submissions: 0, tasksCreated: 0 });
});
