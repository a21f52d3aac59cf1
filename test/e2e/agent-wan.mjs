// The AI Agent example (examples/agent-tool.json) in real n8n: chat trigger → AI Agent → OpenAI Chat
// Model (its credential's Base URL = the scripted chat emulator, test/chat-emulator/) + the Wan tool
// (DashScope credential = the DashScope emulator). Shared by the e2e phase `agent` and `npm run demo`.
import fs from 'node:fs';
import path from 'node:path';
import { finalAnswer, imageParts, toolMessages } from '../chat-emulator/server.mjs';
import { rewriteCredentials } from './lib/workflows.mjs';

export const AGENT_EXAMPLE = 'agent-tool.json';
export const OPENAI_CRED_ID = 'wanE2EOpenAiCred';
const TOOL_TYPE = 'n8n-nodes-alibaba-wan.alibabaWanTool';

/** What the model may receive from the tool per call: compact JSON, never image bytes. */
export const TOOL_RESULT_MAX_BYTES = 4096;

export function openAiCredential(chatBaseUrl) {
	// `url` is the OpenAI credential's Base URL field.
	return { id: OPENAI_CRED_ID, name: 'OpenAI (chat emulator)', type: 'openAiApi', data: { apiKey: 'sk-chat-emulator', url: chatBaseUrl, header: false } };
}

/**
 * The example as it is, made reachable without the editor: a public chat webhook answering with the
 * agent's last output, both credentials pointed at the emulators. `toolParameters` overrides fixed
 * parameters of the Wan tool node (e.g. outputFormat) for a variant.
 */
export function agentWorkflow(repoRoot, { variant, dashScopeCred, toolParameters = {}, responseMode = 'lastNode' }) {
	const workflow = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', AGENT_EXAMPLE), 'utf8'));
	const id = `wanAgent${variant.replace(/[^A-Za-z0-9]/g, '').slice(0, 8).padEnd(8, '0')}`;
	const trigger = workflow.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	const tool = workflow.nodes.find((n) => n.type === TOOL_TYPE);
	if (!trigger || !tool) throw new Error(`${AGENT_EXAMPLE}: needs a chat trigger and a ${TOOL_TYPE} node`);
	trigger.webhookId = `wan-agent-e2e-${variant}`;
	trigger.parameters = { ...trigger.parameters, public: true, mode: 'webhook', options: { responseMode } };
	tool.parameters = { ...tool.parameters, ...toolParameters };
	rewriteCredentials(workflow, 'alibabaDashScopeApi', dashScopeCred);
	rewriteCredentials(workflow, 'openAiApi', { id: OPENAI_CRED_ID, name: 'OpenAI (chat emulator)' });
	delete workflow.pinData;
	return {
		id,
		webhookPath: `${trigger.webhookId}/chat`,
		toolName: tool.name.replace(/[^a-zA-Z0-9_-]+/g, '_'),
		workflow: { ...workflow, id, name: `${workflow.name} (${variant})`, active: false },
	};
}

/** One chat message through the public chat webhook; the agent's answer (`output`) as n8n returns it. */
export async function sendChat(baseUrl, webhookPath, chatInput, sessionId) {
	const r = await fetch(`${baseUrl}/webhook/${webhookPath}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ action: 'sendMessage', sessionId, chatInput }),
		signal: AbortSignal.timeout(180_000),
	});
	const text = await r.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {}
	if (json) return { status: r.status, text, json, output: json.output ?? (Array.isArray(json) ? json[0]?.output : undefined) };
	// responseMode "streaming": n8n sends one JSON object per chunk ({type: begin|item|end, content}).
	const chunks = text
		.split(/\n/)
		.filter((l) => l.trim().startsWith('{'))
		.map((l) => {
			try {
				return JSON.parse(l);
			} catch {
				return null;
			}
		})
		.filter(Boolean);
	const items = chunks.filter((c) => c.type === 'item');
	return { status: r.status, text, json: null, streamed: chunks.length, output: items.length ? items.map((c) => c.content ?? '').join('') : undefined };
}

/**
 * What the model received from the tool in the request after the call: the tool message's content
 * (a string: JSON of the tool's output items), parsed, with its size.
 */
export function toolResultSeen(requests) {
	const after = requests.find((r) => toolMessages(r).length);
	if (!after) throw new Error(`the chat model never received a tool result (${requests.length} request(s))`);
	const message = toolMessages(after)[0];
	const content = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
	let parsed;
	try {
		parsed = JSON.parse(content);
	} catch {
		parsed = undefined;
	}
	return { content, parsed, bytes: Buffer.byteLength(content), imageParts: imageParts(after), request: after };
}

function check(cond, msg) {
	if (!cond) throw new Error(msg);
}

const SHORT_PROMPT = 'A white ceramic mug on a marble counter, soft morning light, product photo';

/**
 * The cases: each sets the chat emulator's script (the tool call the "model" makes), sends one chat
 * message and asserts on the DashScope emulator's counters, what the model received, and the answer.
 */
export function agentCases() {
	return [
		{
			name: 'agent calls the Wan tool; the model receives compact JSON (URL, size, task ID, billed images); the answer reaches the chat',
			variant: 'urls',
			arguments: { prompt: SHORT_PROMPT, size: '1K', numberOfImages: 1 },
			chatInput: 'Make a product photo of a white mug',
			assert({ seen, before, after, answer, requests, tasks, submitted }) {
				check(after.submissions - before.submissions === 1, `DashScope tasks created: ${after.submissions - before.submissions}, expected 1`);
				check(requests.length === 2, `chat model requests: ${requests.length}, expected 2 (tool call, final answer)`);
				// The tool as the model was offered it: the author's description and only the $fromAI fields.
				const offered = (requests[0].body.tools ?? []).map((t) => t.function);
				check(offered.length === 1, `tools offered to the model: ${offered.map((f) => f?.name).join(', ')}`);
				const fn = offered[0];
				const params = Object.keys(fn.parameters?.properties ?? {}).sort().join(',');
				check(params === 'numberOfImages,prompt,size', `tool parameters offered: ${params}`);
				check((fn.parameters.required ?? []).includes('prompt'), `prompt is not required: ${JSON.stringify(fn.parameters.required)}`);
				check(/billed/.test(fn.description) && /5000 characters/.test(fn.parameters.properties.prompt.description), `tool description: ${fn.description}`);
				check(Array.isArray(seen.parsed) && seen.parsed.length === 1, `tool result is not a one-element JSON array: ${seen.content.slice(0, 300)}`);
				const r = seen.parsed[0];
				check(typeof r.taskId === 'string' && r.taskId === tasks.at(-1)?.taskId, `tool result taskId ${r.taskId}, emulator's task ${tasks.at(-1)?.taskId}`);
				check(r.model === 'wan2.7-image', `tool result model ${r.model}`);
				check(/^\d+\*\d+$/.test(String(r.size)), `tool result size ${r.size}`);
				check(r.billedImages === 1, `tool result billedImages ${r.billedImages}, expected 1`);
				check(Array.isArray(r.images) && r.images.length === 1 && /^http:\/\/127\.0\.0\.1:\d+\//.test(r.images[0].url), `tool result images ${JSON.stringify(r.images)}`);
				check(seen.bytes <= TOOL_RESULT_MAX_BYTES, `tool result is ${seen.bytes} bytes (bound ${TOOL_RESULT_MAX_BYTES})`);
				check(!/base64|data:image/.test(seen.content), 'tool result carries base64 image data');
				for (const k of ['chatInput', 'sessionId', 'toolCallId', 'prompt']) check(!(k in r), `tool result repeats the agent's input field "${k}"`);
				check(seen.imageParts.length === 0, 'unexpected image part');
				check(answer.status === 200, `chat webhook HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
				check(answer.output === finalAnswer(seen.content), `chat answer ${JSON.stringify(answer.output)} is not the model's final message ${JSON.stringify(finalAnswer(seen.content))}`);
				check(answer.output.includes(r.images[0].url), 'the answer does not carry the image URL');
				// The model's arguments reached DashScope as the request's prompt, size and n.
				const sent = submitted?.input?.messages?.[0]?.content?.find((c) => c.text)?.text;
				check(sent === SHORT_PROMPT && submitted?.parameters?.size === '1K' && submitted?.parameters?.n === 1, `DashScope received ${JSON.stringify(submitted)?.slice(0, 300)}`);
				return `1 task (${r.taskId}); model requests streamed: ${requests.map((q) => Boolean(q.body.stream)).join("/")}; tool offered: ${JSON.stringify(fn)}; the model received ${seen.bytes} B: ${seen.content}; answer: ${answer.output}`;
			},
		},
		{
			name: 'a prompt over the limit comes back to the model as a short tool result naming the limit; nothing is sent to DashScope',
			variant: 'urls',
			arguments: { prompt: 'x'.repeat(5400), size: '1K', numberOfImages: 1 },
			chatInput: 'Make an image from this very long brief',
			assert({ seen, before, after, answer }) {
				check(after.submissions === before.submissions && after.syncCalls === before.syncCalls, `DashScope calls made: ${after.submissions - before.submissions} task(s)`);
				const r = Array.isArray(seen.parsed) ? seen.parsed[0] : undefined;
				check(r && typeof r.error === 'string', `tool result has no error: ${seen.content.slice(0, 400)}`);
				check(/5,?400/.test(r.error) && /5,?000/.test(r.error), `error does not name the length and the limit: ${r.error}`);
				check(seen.bytes <= 1024, `error result is ${seen.bytes} bytes (bound 1024)`);
				check(answer.status === 200, `chat webhook HTTP ${answer.status} (the execution must not crash): ${answer.text.slice(0, 300)}`);
				check(answer.output === finalAnswer(seen.content), `answer ${JSON.stringify(answer.output)}`);
				return `the model received ${seen.bytes} B: ${seen.content}; answer: ${answer.output}`;
			},
		},
		{
			name: 'a task that fails after it was created: the model receives the error with its task ID (the call gave only a prompt: size and count from $fromAI defaults)',
			variant: 'urls',
			arguments: { prompt: SHORT_PROMPT },
			chatInput: 'Make a product photo of a white mug',
			fault: { action: { type: 'fail-task', code: 'InternalError.Algo', message: 'Algorithm process error.' } },
			assert({ seen, before, after, answer, tasks, submitted }) {
				check(after.submissions - before.submissions === 1, `DashScope tasks created: ${after.submissions - before.submissions}, expected 1`);
				check(submitted?.parameters?.size === '1K' && submitted?.parameters?.n === 1, `defaults not applied: DashScope received parameters ${JSON.stringify(submitted?.parameters)}`);
				const r = Array.isArray(seen.parsed) ? seen.parsed[0] : undefined;
				const task = tasks.at(-1)?.taskId;
				check(r && typeof r.error === 'string', `tool result has no error: ${seen.content.slice(0, 400)}`);
				check(task && r.taskId === task, `tool result taskId ${r?.taskId}, the emulator's task ${task}`);
				check(/InternalError\.Algo|Algorithm/.test(seen.content), `error does not say why: ${seen.content}`);
				check(seen.bytes <= 2048, `error result is ${seen.bytes} bytes (bound 2048)`);
				check(answer.status === 200 && answer.output === finalAnswer(seen.content) && answer.output.includes(task), `answer ${JSON.stringify(answer.output)}`);
				return `the model received ${seen.bytes} B: ${seen.content}; answer: ${answer.output}`;
			},
		},
		{
			name: 'streaming chat: the model is called with stream=true, the streamed tool call runs the tool, the answer streams back',
			variant: 'stream',
			arguments: { prompt: SHORT_PROMPT, size: '1K', numberOfImages: 1 },
			chatInput: 'Make a product photo of a white mug',
			assert({ seen, before, after, answer, requests }) {
				check(after.submissions - before.submissions === 1, `DashScope tasks created: ${after.submissions - before.submissions}, expected 1`);
				check(requests.length === 2 && requests.every((q) => q.body.stream === true), `model requests streamed: ${requests.map((q) => q.body.stream).join('/')}`);
				const r = Array.isArray(seen.parsed) ? seen.parsed[0] : undefined;
				check(r?.images?.length === 1 && r.billedImages === 1, `tool result ${seen.content.slice(0, 300)}`);
				check(answer.status === 200 && answer.streamed > 0, `chat answer not streamed (HTTP ${answer.status}): ${answer.text.slice(0, 300)}`);
				check(answer.output === finalAnswer(seen.content), `streamed answer ${JSON.stringify(answer.output)} is not ${JSON.stringify(finalAnswer(seen.content))}`);
				return `${answer.streamed} chunks streamed to the chat; the model received ${seen.bytes} B; answer: ${answer.output}`;
			},
		},
		{
			name: 'Output = Binary Files as a tool: images stored, the model gets file name/size JSON and no image part (n8n 2.41.1 passes only JSON)',
			variant: 'binary',
			toolParameters: { outputFormat: 'binary' },
			arguments: { prompt: SHORT_PROMPT, size: '1K', numberOfImages: 1 },
			chatInput: 'Make a product photo of a white mug',
			assert({ seen, before, after, answer }) {
				check(after.submissions - before.submissions === 1, `DashScope tasks created: ${after.submissions - before.submissions}, expected 1`);
				check(after.resultDownloads > before.resultDownloads, 'the image was not downloaded (binary output)');
				const r = Array.isArray(seen.parsed) ? seen.parsed[0] : undefined;
				const image = r?.images?.[0];
				check(image && /\.png$/.test(image.fileName) && image.mimeType === 'image/png' && /\d/.test(String(image.fileSize)), `tool result image ${JSON.stringify(image)}`);
				check(seen.imageParts.length === 0, `the model received ${seen.imageParts.length} image part(s): n8n 2.41.1 was expected to drop tool binaries`);
				check(seen.bytes <= TOOL_RESULT_MAX_BYTES && !/base64|data:image/.test(seen.content), `tool result ${seen.bytes} B`);
				check(answer.status === 200 && answer.output === finalAnswer(seen.content), `answer ${JSON.stringify(answer.output)}`);
				return `image parts received: 0; the model received ${seen.bytes} B: ${seen.content}`;
			},
		},
	];
}

/** Runs one case against a started n8n; returns the case's summary (throws on a failed assertion). */
export async function runAgentCase(tc, { baseUrl, chat, dashScope, workflows, sessionId }) {
	const wf = workflows[tc.variant];
	chat.setScript({ tool: wf.toolName, arguments: tc.arguments });
	await dashScope.control('DELETE', 'faults');
	if (tc.fault) {
		const f = await dashScope.control('POST', 'faults', tc.fault);
		if (f.status >= 300) throw new Error(`POST /__emulator/faults: HTTP ${f.status} ${f.text ?? JSON.stringify(f.json)}`);
	}
	const before = await dashScope.counters();
	const answer = await sendChat(baseUrl, wf.webhookPath, tc.chatInput, sessionId);
	const after = await dashScope.counters();
	const created = await dashScope.control('GET', 'requests');
	const submits = (Array.isArray(created.json) ? created.json : []).filter((r) => r.kind === 'submit' && r.status === 200);
	const tasksRes = await dashScope.control('GET', 'tasks');
	const tasks = Array.isArray(tasksRes.json) ? tasksRes.json : (tasksRes.json?.tasks ?? []);
	await dashScope.control('DELETE', 'faults');
	const requests = chat.requests();
	if (answer.status !== 200 && !requests.length) throw new Error(`chat webhook HTTP ${answer.status}: ${answer.text.slice(0, 500)}`);
	const seen = toolResultSeen(requests);
	return tc.assert({ seen, before, after, answer, requests, tasks, submitted: submits.at(-1)?.body });
}
