/**
 * Sharing the account's 5 running slots with another client of the same key (another worker, another
 * tool), through the built node in n8n's engine against the emulator (policy 'reject': a 6th concurrent
 * task is answered 429). The other client's tasks are submitted straight to the emulator, or a full account
 * is played by injected 429s. Each test has a key of its own. Once a submit
 * met the limit, the node sends a submit only when one of its own tasks ended or, as one probe, when the
 * Retry-After passed — never one resend per waiting item — and no task is created twice.
 */
import { randomUUID } from 'node:crypto';

import { msgBody, submit } from './emulator/fixtures';
import { setupEngine } from './fixtures/engine';
import { REGION, submits } from './fixtures/images';

const { emu, run } = setupEngine();

const generate = (extra = {}) => ({
	operation: 'generateImage',
	model: 'wan2.7-image',
	prompt: '={{ $json.prompt }}',
	size: '1K',
	outputFormat: 'url',
	...extra,
});
const items = (count: number, runningMs: number) =>
	Array.from({ length: count }, (_, i) => ({ json: { prompt: `ours ${i + 1} [emulator:running-ms=${runningMs}]` } }));

/** A key of this test's own: the node's running-slot gates (per process, key and model) start fresh. */
function ownKey(): string {
	const key = `sk-slots-${randomUUID()}`;
	emu.addKey(key, REGION);
	return key;
}

function ourTasks() {
	return submits(emu)
		.filter((r) => r.status === 200 && JSON.stringify(r.body).includes('ours '))
		.map((r) => emu.task((r.responseBody as { output: { task_id: string } }).output.task_id)!);
}

const refusedTimes = () =>
	submits(emu)
		.filter((r) => r.status === 429)
		.map((r) => r.at)
		.sort((a, b) => a - b);

describe('running slots shared with another client of the key', () => {
	test('while the account stays full: after the first refusals, one probe per Retry-After, not one resend per item; each item one task', async () => {
		const key = ownKey();
		// The first 8 submits meet a full account (Retry-After 1 s); no task is created for them.
		emu.injectFault({ match: { kind: 'submit' }, times: 8, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 1 } });
		const result = await run(generate(), items(4, 200), { apiKey: key });
		expect(result.status).toBe('success');
		expect(result.items).toHaveLength(4);
		const ours = ourTasks();
		expect(ours).toHaveLength(4); // no duplicate task
		expect(new Set(result.items.map((item) => item.json.taskId))).toEqual(new Set(ours.map((task) => task.taskId)));

		const refused = refusedTimes();
		expect(refused).toHaveLength(8);
		// The first wave went out before anything was refused (one per item)…
		const firstWave = refused.filter((at) => at < refused[0] + 300);
		expect(firstWave.length).toBeLessThanOrEqual(4);
		// …after it, the submits that met the limit were single probes, a Retry-After (1 s) apart.
		const later = refused.slice(firstWave.length);
		expect(later.length).toBeGreaterThanOrEqual(4);
		for (let i = 1; i < later.length; i++) expect(later[i] - later[i - 1]).toBeGreaterThanOrEqual(950);
	});

	test('another client holding every slot: our submits wait and go once its tasks end, each item one task', async () => {
		const key = ownKey();
		const theirs: string[] = [];
		for (let i = 0; i < 5; i++) {
			const res = await submit(emu, msgBody('wan2.7-image', `theirs ${i + 1} [emulator:running-ms=2500]`, [], { size: '1K' }), { key });
			expect(res.status).toBe(200);
			theirs.push((res.body as { output: { task_id: string } }).output.task_id);
		}
		await new Promise((resolve) => setTimeout(resolve, 1_100)); // the submit rate's second passes
		const result = await run(generate(), items(4, 200), { apiKey: key });
		expect(result.status).toBe('success');
		const ours = ourTasks();
		expect(ours).toHaveLength(4);
		const firstFreed = Math.min(...theirs.map((id) => emu.task(id)!.endTime!));
		for (const task of ours) expect(task.submitTime).toBeGreaterThanOrEqual(firstFreed);
		// Waiting, not hammering: after the first wave, single probes at least a Retry-After apart.
		const refused = refusedTimes();
		const later = refused.filter((at) => at >= refused[0] + 300);
		expect(refused.length - later.length).toBeLessThanOrEqual(4);
		for (let i = 1; i < later.length; i++) expect(later[i] - later[i - 1]).toBeGreaterThanOrEqual(950);
		expect(later.length).toBeLessThanOrEqual(3);
	});

	test('a slot our own task frees is used at once, not after the Retry-After: the refused item is resent as soon as one of ours ended', async () => {
		// The first submit is refused as if the account were full, with a long Retry-After (no task created).
		const key = ownKey();
		emu.injectFault({ match: { kind: 'submit' }, action: { type: 'http', status: 429, code: 'Throttling', retryAfterSeconds: 10 } });
		const result = await run(generate(), items(3, 300), { apiKey: key });
		expect(result.status).toBe('success');
		expect(result.items).toHaveLength(3);

		const ours = ourTasks();
		expect(ours).toHaveLength(3); // the refused item: one task, after the list showed none
		const refusals = submits(emu).filter((r) => r.status === 429);
		expect(refusals).toHaveLength(1);
		const refusedPrompt = (refusals[0].body as { input: { messages: Array<{ content: Array<{ text: string }> }> } }).input.messages[0].content[0].text;
		const resent = ours.filter((task) => task.prompt === refusedPrompt);
		expect(resent).toHaveLength(1);
		// Resent after one of ours had ended (its slot), long before the 10 s Retry-After.
		const firstEnd = Math.min(...ours.filter((task) => task !== resent[0]).map((task) => task.endTime!));
		expect(resent[0].submitTime).toBeGreaterThanOrEqual(firstEnd);
		const refusedAt = refusals[0].at;
		expect(resent[0].submitTime - refusedAt).toBeLessThan(6_000);
	});
});
