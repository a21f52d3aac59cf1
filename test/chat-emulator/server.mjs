// A scripted OpenAI-compatible chat model for agent tests: real HTTP on 127.0.0.1, no model inside.
// Independent of the node's code (plain ESM, no imports from nodes/), so the e2e harness (Node 20)
// and `npm run demo` can both start it. See README.md.
//
// Script (POST /__chat/script, or `script` at start): { tool?: string, arguments: object }.
// - a request whose last message is not a tool result → one tool call of `tool` (or the first tool
//   the request offers) with `arguments`;
// - a request whose last message is a tool result → a final answer built from that result: its image
//   URLs, or the error it reported.
// Every request is recorded (GET /__chat/requests) so a test can assert what the model received.
import http from 'node:http';

const MODEL_IDS = ['gpt-4o-mini', 'gpt-4o'];

/** The final answer to a tool result: what a model would say, built only from what it received. */
export function finalAnswer(toolContent) {
	let parsed;
	try {
		parsed = JSON.parse(toolContent);
	} catch {
		parsed = toolContent;
	}
	const results = Array.isArray(parsed) ? parsed : [parsed];
	const errors = results.filter((r) => r && typeof r === 'object' && typeof r.error === 'string');
	if (errors.length) {
		const e = errors[0];
		return `The image tool reported a problem: ${e.error}${e.taskId ? ` (task ${e.taskId})` : ''}`;
	}
	const urls = [...String(toolContent).matchAll(/https?:\/\/[^"\s\\]+/g)].map((m) => m[0]);
	const taskIds = [...new Set(results.map((r) => r?.taskId).filter(Boolean))];
	if (urls.length) return `Here is your image: ${urls.join(' ')}${taskIds.length ? ` (task ${taskIds.join(', ')})` : ''}`;
	return `The tool answered: ${String(toolContent).slice(0, 500)}`;
}

export async function startChatEmulator({ port = 0, script = { arguments: {} } } = {}) {
	const requests = [];
	let current = script;
	let callCount = 0;

	const server = http.createServer(async (req, res) => {
		const chunks = [];
		for await (const c of req) chunks.push(c);
		const raw = Buffer.concat(chunks).toString('utf8');
		const url = new URL(req.url, 'http://127.0.0.1');
		const send = (status, json) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(json));
		};
		try {
			if (req.method === 'GET' && url.pathname === '/__chat/requests') return send(200, requests);
			if (req.method === 'POST' && url.pathname === '/__chat/script') {
				current = JSON.parse(raw || '{}');
				requests.length = 0;
				return send(200, { ok: true });
			}
			if (req.method === 'GET' && /\/models$/.test(url.pathname)) {
				return send(200, { object: 'list', data: MODEL_IDS.map((id) => ({ id, object: 'model', created: 0, owned_by: 'emulator' })) });
			}
			if (req.method === 'POST' && /\/chat\/completions$/.test(url.pathname)) {
				const body = JSON.parse(raw || '{}');
				requests.push({ path: url.pathname, authorization: req.headers.authorization ? 'present' : 'absent', body, bytes: raw.length });
				const messages = Array.isArray(body.messages) ? body.messages : [];
				const last = messages[messages.length - 1];
				const id = `chatcmpl-emu-${++callCount}`;
				let message;
				if (last?.role === 'tool') {
					const content = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
					message = { role: 'assistant', content: finalAnswer(content) };
				} else {
					const offered = (body.tools ?? []).map((t) => t.function?.name).filter(Boolean);
					const name = current.tool ?? offered[0];
					if (!name) return send(400, { error: { message: 'chat emulator: the request offers no tool to call', type: 'invalid_request_error' } });
					if (current.tool && !offered.includes(current.tool)) {
						return send(400, { error: { message: `chat emulator: tool "${current.tool}" not offered (offered: ${offered.join(', ')})`, type: 'invalid_request_error' } });
					}
					message = {
						role: 'assistant',
						content: null,
						tool_calls: [{ id: `call_emu_${callCount}`, type: 'function', function: { name, arguments: JSON.stringify(current.arguments ?? {}) } }],
					};
				}
				const finish = message.tool_calls ? 'tool_calls' : 'stop';
				const usage = { prompt_tokens: Math.ceil(raw.length / 4), completion_tokens: 20, total_tokens: Math.ceil(raw.length / 4) + 20 };
				const model = body.model ?? MODEL_IDS[0];
				if (body.stream) {
					res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
					const chunk = (delta, finishReason = null, extra = {}) =>
						res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`);
					if (message.tool_calls) {
						chunk({ role: 'assistant', content: null, tool_calls: message.tool_calls.map((tc, index) => ({ index, ...tc })) });
					} else {
						chunk({ role: 'assistant', content: message.content });
					}
					chunk({}, finish);
					if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model, choices: [], usage })}\n\n`);
					res.end('data: [DONE]\n\n');
					return;
				}
				return send(200, {
					id,
					object: 'chat.completion',
					created: Math.floor(Date.now() / 1000),
					model,
					choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
					usage,
				});
			}
			send(404, { error: { message: `chat emulator: no route ${req.method} ${url.pathname}` } });
		} catch (e) {
			send(500, { error: { message: `chat emulator: ${e.message}` } });
		}
	});
	await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
	const base = `http://127.0.0.1:${server.address().port}`;
	return {
		url: base,
		/** What the OpenAI credential's Base URL must be. */
		baseUrl: `${base}/v1`,
		requests: () => requests,
		setScript: (s) => {
			current = s;
			requests.length = 0;
		},
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

/** The tool-result messages a recorded request carried (role "tool"), with the call they answer. */
export function toolMessages(request) {
	return (request?.body?.messages ?? []).filter((m) => m.role === 'tool');
}

/** Image parts (OpenAI `image_url` content parts) anywhere in a recorded request. */
export function imageParts(request) {
	return (request?.body?.messages ?? []).flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p?.type === 'image_url') : []));
}

// `node test/chat-emulator/server.mjs [--port N]`: run it on its own (prints its Base URL).
if (import.meta.url === `file://${process.argv[1]}`) {
	const i = process.argv.indexOf('--port');
	const emu = await startChatEmulator({ port: i > 0 ? Number(process.argv[i + 1]) : 0 });
	console.log(`chat emulator listening on ${emu.url} (OpenAI Base URL ${emu.baseUrl})`);
}
