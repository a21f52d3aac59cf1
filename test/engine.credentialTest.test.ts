/**
 * The credential's Test button, the way n8n 2.41 runs it: the credentials tester routes the
 * credential's `test.request` through n8n-core's RoutingNode (harness: runCredentialTestRequest)
 * and, on an HTTP error, shows the `test.rules` message for `error.cause.response.status`. Against
 * the emulator, whose keys are bound to their region like DashScope's, a key from another region must
 * pick the message that explains region binding; a matching key passes without creating a task. The
 * gateway credential's Test lists the gateway's models; a gateway without that route cannot be verified.
 */
import { EMULATOR_KEYS } from './emulator';
import { GATEWAY_EMULATOR_KEYS, startGatewayEmulator, type GatewayEmulator } from './emulator-gateway';
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

test('a key pasted with spaces and a line break passes, as the node trims it too', async () => {
	expect(await testButton(`  ${EMULATOR_KEYS['ap-southeast-1']}\n`)).toEqual({ status: 'OK' });
	const lists = emu.requests().filter((request) => request.kind === 'list');
	expect(lists.at(-1)!.headers.authorization).toBe(`Bearer ${EMULATOR_KEYS['ap-southeast-1']}`);
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

describe('the Wan Gateway credential: GET {base}/models, never a generation', () => {
	const { WanGatewayApi } = require('../dist/credentials/WanGatewayApi.credentials.js');
	const gatewayRules = new WanGatewayApi().test.rules as Array<{ type: string; properties: { value: number; message: string } }>;
	let listing: GatewayEmulator;
	let withoutModels: GatewayEmulator;
	beforeAll(async () => {
		listing = await startGatewayEmulator();
		withoutModels = await startGatewayEmulator({ modelsRoute: 'absent' });
	});
	afterAll(async () => {
		await listing.close();
		await withoutModels.close();
	});

	async function testGateway(gw: GatewayEmulator, apiKey: string, baseUrl = `${gw.apiUrl}/`) {
		const { error } = await runCredentialTestRequest({ apiKey, baseUrl: ` ${baseUrl} ` }, 'wanGatewayApi');
		if (!error) return { status: 'OK' as const };
		const httpStatus = error.cause?.response?.status;
		const rule = gatewayRules.find((entry) => entry.type === 'responseCode' && entry.properties.value === httpStatus);
		return { status: 'Error' as const, httpStatus, message: rule?.properties.message };
	}

	test('a valid key passes (base URL trimmed, trailing slash dropped); nothing is generated', async () => {
		expect(await testGateway(listing, GATEWAY_EMULATOR_KEYS[0])).toEqual({ status: 'OK' });
		expect(listing.counters()).toMatchObject({ modelsCalls: 1, generationRequests: 0 });
	});

	test('a key pasted with spaces and a line break passes, as the node trims it too', async () => {
		expect(await testGateway(listing, `  ${GATEWAY_EMULATOR_KEYS[0]}\n`)).toEqual({ status: 'OK' });
		const models = listing.requests().filter((request) => request.kind === 'models');
		expect(models.at(-1)!.headers.authorization).toBe(`Bearer ${GATEWAY_EMULATOR_KEYS[0]}`);
	});

	test('a wrong key says the gateway refused it', async () => {
		const outcome = await testGateway(listing, 'sk-wrong-gateway-key');
		expect(outcome).toMatchObject({ status: 'Error', httpStatus: 401 });
		expect(outcome.message).toMatch(/refused the API key/);
		expect(listing.counters().generationRequests).toBe(0);
	});

	test('a gateway without the route (404) reads "cannot verify", not "wrong key" — whatever the key', async () => {
		for (const key of [GATEWAY_EMULATOR_KEYS[0], 'sk-wrong-gateway-key']) {
			const outcome = await testGateway(withoutModels, key);
			expect(outcome).toMatchObject({ status: 'Error', httpStatus: 404 });
			expect(outcome.message).toMatch(/^Cannot verify: .*This does not mean the key is wrong/);
		}
		expect(withoutModels.counters().generationRequests).toBe(0);
	});
});
