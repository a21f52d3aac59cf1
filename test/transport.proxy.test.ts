/**
 * The default dispatcher honours HTTP_PROXY / NO_PROXY: a loopback forward proxy counts what passes
 * through it; the dispatcher is rebuilt after each env change with resetDispatcher().
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { getTask, submitTask } from '../nodes/AlibabaWan/services/dashscope/dashScopeApi';
import { resetDispatcher, resetRateLimiters } from '../nodes/AlibabaWan/transport';
import { EMULATOR_KEYS, startEmulator, type Emulator } from './emulator';

const ENV_NAMES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
const T2I = {
	model: 'wan2.7-image',
	input: { messages: [{ role: 'user', content: [{ text: 'a red apple on a table' }] }] },
	parameters: { size: '1K', n: 1 },
};

interface Proxy {
	url: string;
	seen: string[];
	close(): Promise<void>;
}

/** Forward proxy: absolute-URI requests are relayed; CONNECT is tunnelled (and counted) too. */
async function startProxy(): Promise<Proxy> {
	const seen: string[] = [];
	const server = http.createServer((req, res) => {
		seen.push(`${req.method} ${req.url}`);
		const target = new URL(req.url ?? '');
		const upstream = http.request(
			{ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
			(answer) => {
				res.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(res);
			},
		);
		upstream.on('error', () => {
			res.writeHead(502);
			res.end();
		});
		req.pipe(upstream);
	});
	server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
		seen.push(`CONNECT ${req.url}`);
		const [host, port] = String(req.url).split(':');
		const upstream = net.connect(Number(port), host, () => {
			socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(socket);
			socket.pipe(upstream);
		});
		upstream.on('error', () => socket.destroy());
		socket.on('error', () => upstream.destroy());
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		seen,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

let emu: Emulator;
let proxy: Proxy;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
	emu = await startEmulator({ port: 0, timing: { pendingMs: 30, runningMs: 60, syncDelayMs: 10 } });
	proxy = await startProxy();
	for (const name of ENV_NAMES) savedEnv[name] = process.env[name];
});
afterAll(async () => {
	await resetDispatcher();
	await emu.close();
	await proxy.close();
});
beforeEach(async () => {
	for (const name of ENV_NAMES) delete process.env[name];
	await resetDispatcher();
	resetRateLimiters();
	emu.reset();
	proxy.seen.length = 0;
});
afterEach(async () => {
	for (const name of ENV_NAMES) {
		if (savedEnv[name] === undefined) delete process.env[name];
		else process.env[name] = savedEnv[name];
	}
	await resetDispatcher();
});

it('goes through HTTP_PROXY, and around it for NO_PROXY hosts', async () => {
	const ep = { baseUrl: emu.baseUrl('ap-southeast-1'), apiKey: EMULATOR_KEYS['ap-southeast-1'] };
	const emuHost = new URL(emu.url).host;

	process.env.HTTP_PROXY = proxy.url;
	await resetDispatcher();
	const { taskId } = await submitTask(ep, 'image-generation', T2I);
	await getTask(ep, taskId);
	expect(proxy.seen).toHaveLength(2);
	expect(proxy.seen[0]).toMatch(new RegExp(`^(POST http://${emuHost}/ap-southeast-1/api/v1/services/aigc/image-generation/generation|CONNECT ${emuHost})`));
	expect(emu.counters().submissions).toBe(1);
	expect(emu.counters().queries).toBe(1);
	// The proxied request still carried the key to the service.
	expect(emu.requests()[0].headers.authorization).toBe(`Bearer ${ep.apiKey}`);

	process.env.NO_PROXY = `localhost,${new URL(emu.url).hostname}`;
	await resetDispatcher();
	await getTask(ep, taskId);
	expect(proxy.seen).toHaveLength(2); // unchanged: bypassed
	expect(emu.counters().queries).toBe(2);
});

it('without proxy variables, requests go direct', async () => {
	const ep = { baseUrl: emu.baseUrl('ap-southeast-1'), apiKey: EMULATOR_KEYS['ap-southeast-1'] };
	const { taskId } = await submitTask(ep, 'image-generation', T2I);
	await getTask(ep, taskId);
	expect(proxy.seen).toHaveLength(0);
	expect(emu.counters().queries).toBe(1);
});
