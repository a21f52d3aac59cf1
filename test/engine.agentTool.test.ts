/**
 * The node as an AI Agent's tool (type `alibabaWanTool`, as n8n wraps it) in the real engine: one
 * compact JSON answer per call, URLs unless the workflow author chose binary, failures returned as a
 * short result the model can act on. The same parameters on the plain node keep its own behaviour.
 * (The whole agent round trip in real n8n is the e2e phase `agent`.)
 */
import { setupEngine } from './fixtures/engine';
import { REGION } from './fixtures/images';

const { emu, run } = setupEngine();

// What n8n's engine merges into a tool's input item: the agent's own item plus the call's arguments.
const agentItem = [{ json: { sessionId: 's1', action: 'sendMessage', chatInput: 'make a mug photo', prompt: 'a mug', toolCallId: 'call_1' } }];
const generate = { operation: 'generateImage', model: 'wan2.7-image', prompt: 'a white mug on marble', size: '1K' };

test('as a tool: URLs by default, one compact item (task ID, size, billed images, URLs), no input fields', async () => {
	const result = await run(generate, agentItem, { typeVersion: 2, asTool: true });
	expect(result.error).toBeUndefined();
	expect(result.items).toHaveLength(1);
	const json = result.items[0].json;
	expect(result.items[0].binary).toBeUndefined();
	expect(emu.counters().resultDownloads).toBe(0);
	expect(json).toMatchObject({ status: 'SUCCEEDED', model: 'wan2.7-image', size: '1024*1024', imageCount: 1, billedImages: 1 });
	expect(json.taskId).toBe(emu.tasks()[0].taskId);
	expect(json.images).toEqual([{ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/results\//), size: '1024*1024' }]);
	for (const key of ['chatInput', 'sessionId', 'toolCallId', 'prompt', 'timings', 'requestId']) expect(json).not.toHaveProperty(key);
	expect(JSON.stringify(json).length).toBeLessThan(1024);
});

test('the plain node with the same parameters still downloads binaries and keeps input fields (version 2)', async () => {
	const result = await run(generate, agentItem, { typeVersion: 2 });
	expect(result.error).toBeUndefined();
	expect(result.items).toHaveLength(1);
	expect(result.items[0].binary?.data?.mimeType).toBe('image/png');
	expect(result.items[0].json).toMatchObject({ chatInput: 'make a mug photo', prompt: 'a white mug on marble', imageIndex: 1 });
});

test('as a tool with Output = Binary Files: images stored, the JSON names each file and its size', async () => {
	const result = await run({ ...generate, numberOfImages: 2, outputFormat: 'binary' }, agentItem, { typeVersion: 2, asTool: true });
	expect(result.error).toBeUndefined();
	expect(result.items).toHaveLength(1);
	const images = result.items[0].json.images as Array<Record<string, unknown>>;
	expect(images).toHaveLength(2);
	for (const image of images) {
		expect(image).toMatchObject({ url: expect.any(String), fileName: expect.stringMatching(/-\d\.png$/), mimeType: 'image/png' });
	}
	expect(result.items[0].json.billedImages).toBe(2);
	expect(JSON.stringify(result.items[0].json)).not.toMatch(/base64/);
});

test('as a tool: a prompt over the limit is a short result naming length and limit; nothing is sent', async () => {
	const result = await run({ ...generate, prompt: 'x'.repeat(5400) }, agentItem, { typeVersion: 2, asTool: true });
	expect(result.status).toBe('success');
	expect(result.error).toBeUndefined();
	expect(emu.requests()).toHaveLength(0);
	expect(result.items).toHaveLength(1);
	const json = result.items[0].json;
	expect(json.error).toMatch(/^Prompt is 5400 characters; Wan 2\.7 Image accepts at most 5000 characters/);
	expect(JSON.stringify(json).length).toBeLessThan(400);
});

test('the plain node still stops on the same invalid prompt', async () => {
	const result = await run({ ...generate, prompt: 'x'.repeat(5400) }, agentItem, { typeVersion: 2 });
	expect(result.status).toBe('error');
	expect(result.error?.message).toMatch(/Item 1: Prompt is 5400 characters/);
});

test('as a tool: a task that fails after it was created comes back with its task ID and the ledger, without the key', async () => {
	const apiKey = 'sk-agent-tool-secret-0001';
	emu.addKey(apiKey, REGION);
	emu.injectFault({ action: { type: 'fail-task', code: 'InternalError.Algo', message: `Algorithm process error (caller ${apiKey}).` } });
	const result = await run(generate, agentItem, { typeVersion: 2, asTool: true, apiKey });
	expect(result.status).toBe('success');
	const json = result.items[0].json;
	const taskId = emu.tasks()[0].taskId;
	expect(json).toMatchObject({ taskId, code: 'InternalError.Algo', error: expect.stringContaining('Algorithm process error') });
	expect(json.tasks).toEqual([expect.objectContaining({ taskId, state: 'failed' })]);
	expect(JSON.stringify(result.items)).not.toContain(apiKey);
});
