/**
 * The credential's Test button, the way n8n 2.41 runs it: the credentials tester routes the
 * credential's `test.request` through n8n-core's RoutingNode (harness: runCredentialTestRequest)
 * and, on an HTTP error, shows the `test.rules` message for `error.cause.response.status`. Against
 * the emulator, whose keys are bound to their region like DashScope's, a key from another region must
 * pick the message that explains region binding; a matching key passes without creating a task.
 */
import { EMULATOR_KEYS } from './emulator';
import { setupEmulator } from './emulator/fixtures';
import { runCredentialTestRequest } from './harness/n8nEngine';

const { AlibabaDashScopeApi } = require('../dist/credentials/AlibabaDashScopeApi.credentials.js');
const rules = new AlibabaDashScopeApi().test.rules as Array<{ type: string; properties: { value: number; message: string } }>;

const emu = setupEmulator({ timing: { pendingMs: 20, runningMs: 50 } });

/** What the Test button shows: n8n's tester picks the first responseCode rule for the failed status. */
async function testButton(apiKey: string, region = 'ap-southeast-1') {
	const { error } = await runCredentialTestRequest({ apiKey, region, baseUrl: emu.baseUrl(region as never) });
	if (!error) return { status: 'OK' as const };
	const httpStatus = error.cause?.response?.status;
	const rule = rules.find((entry) => entry.type === 'responseCode' && entry.properties.value === httpStatus);
	return { status: 'Error' as const, httpStatus, message: rule?.properties.message };
}

test('a Singapore key tested in Singapore passes, and the test creates no task', async () => {
	expect(await testButton(EMULATOR_KEYS['ap-southeast-1'])).toEqual({ status: 'OK' });
	expect(emu.counters().lists).toBe(1);
	expect(emu.counters().submitAttempts).toBe(0);
});

test.each([
	['Beijing', 'cn-beijing'],
	['Virginia', 'us-east-1'],
] as const)('a %s key tested in Singapore shows that keys are bound to their region', async (_name, keyRegion) => {
	const outcome = await testButton(EMULATOR_KEYS[keyRegion]);
	expect(outcome).toMatchObject({ status: 'Error', httpStatus: 401 });
	expect(outcome.message).toMatch(/keys are bound to the region they were created in/);
});
