/**
 * Submit reconciliation when another client (another execution or worker on the same key) creates tasks
 * of the same model in the same seconds. Its own emulator: the reconciliation keeps per-account state
 * (claimed tasks, the service's learned time zone) that must not leak into the other transport suites.
 */
import { submitTask } from '../nodes/AlibabaWan/services/dashscope/dashScopeApi';
import { FAST, T2I, setupTransportEmulator, submitAsAnotherClient } from './fixtures/transport';

const setup = setupTransportEmulator();

it("a 429 with a request ID while another client's task of the model is listed: that task is provably not ours (its request differs), so the submit is resent — one task each, the other's never adopted", async () => {
	const emu = setup.emu();
	const ep = setup.ep();
	// Another execution on the same key (created outside this process, so nothing here claimed it).
	const otherTaskId = await submitAsAnotherClient(ep);
	emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling.RateQuota' } });
	const result = await submitTask(ep, 'image-generation', T2I, { retry: FAST });
	expect(result.taskId).not.toBe(otherTaskId);
	expect(emu.task(result.taskId)).toBeDefined();
	expect(result.adopted).toBeUndefined();
	expect(emu.counters().submissions).toBe(2); // the other client's and ours: no duplicate, none adopted wrongly
	const kinds = emu.requests().map((r) => r.kind);
	expect(kinds.indexOf('list')).toBeLessThan(kinds.lastIndexOf('submit'));
});
