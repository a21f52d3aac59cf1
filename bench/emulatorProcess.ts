/**
 * The DashScope emulator in its own process (forked with IPC by bench/run.ts), so the ~250 MB request
 * bodies it buffers and parses never touch the memory of the process running the node.
 *
 * In front of it sits a byte-counting TCP pass-through: the node talks to the proxy, which counts
 * every byte received on the wire (headers included). Over IPC the parent asks for a *summary* of the
 * recorded requests (sizes, statuses, Content-Length, task snapshots without their bodies): fetching
 * /__emulator/requests would copy the full data URIs into the asking process.
 *
 * argv: JSON { pendingMs, runningMs, concurrencyPolicy? }
 * IPC in:  { id, cmd: 'summary' | 'timeline' | 'reset' | 'close' }
 * IPC out: { ready, url } once listening; { id, result } per command.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import { startEmulator, EMULATOR_KEYS } from '../test/emulator';

interface Cmd {
	id: number;
	cmd: 'summary' | 'timeline' | 'reset' | 'close';
}

async function main(): Promise<void> {
	const { concurrencyPolicy, ...timing } = JSON.parse(process.argv[2] ?? '{}') as { pendingMs?: number; runningMs?: number; concurrencyPolicy?: 'reject' | 'queue' };
	const emu = await startEmulator({ timing, concurrencyPolicy });
	const target = new URL(emu.url);
	let wireIn = 0;
	let wireOut = 0;
	let connections = 0;
	// Wall-clock (Date.now) of the first and last byte received, and of the last byte answered.
	let firstInAt = 0;
	let lastInAt = 0;
	let lastOutAt = 0;
	const proxy = net.createServer((client) => {
		connections += 1;
		const upstream = net.connect(Number(target.port), target.hostname);
		client.on('data', (chunk: Buffer) => {
			wireIn += chunk.length;
			lastInAt = Date.now();
			if (!firstInAt) firstInAt = lastInAt;
		});
		upstream.on('data', (chunk: Buffer) => {
			wireOut += chunk.length;
			lastOutAt = Date.now();
		});
		client.pipe(upstream);
		upstream.pipe(client);
		const end = () => {
			client.destroy();
			upstream.destroy();
		};
		client.on('error', end);
		upstream.on('error', end);
		client.on('close', end);
		upstream.on('close', end);
	});
	await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

	const summary = () => {
		const requests = emu.requests().map((r) => {
			const body = r.body as { input?: { messages?: Array<{ content?: Array<{ image?: unknown }> }> } } | undefined;
			const images = (body?.input?.messages ?? []).flatMap((m) => m.content ?? []).filter((c) => typeof c.image === 'string');
			return {
				kind: r.kind,
				method: r.method,
				path: r.path,
				status: r.status,
				at: r.at,
				contentLength: r.headers['content-length'] !== undefined ? Number(r.headers['content-length']) : undefined,
				transferEncoding: r.headers['transfer-encoding'],
				dataUriChars: images.reduce((sum, c) => sum + (c.image as string).length, 0),
				images: images.length,
				taskId: (r.responseBody as { output?: { task_id?: string } } | undefined)?.output?.task_id,
				code: (r.responseBody as { code?: string } | undefined)?.code,
			};
		});
		const taskIds = [...new Set(requests.filter((r) => r.kind === 'submit' && r.taskId).map((r) => r.taskId as string))];
		const tasks = taskIds.map((id) => {
			const t = emu.task(id);
			return t && {
				taskId: id,
				status: t.status,
				submitTime: t.submitTime,
				scheduledTime: t.scheduledTime,
				endTime: t.endTime,
				inputImages: t.inputImages,
			};
		});
		const m = process.memoryUsage();
		return { counters: emu.counters(), requests, tasks, wire: { in: wireIn, out: wireOut, connections, firstInAt, lastInAt, lastOutAt }, emulatorMemory: { rss: m.rss, heapUsed: m.heapUsed } };
	};

	/**
	 * Every task (any key, creation order) with its emulator-clock times, and every request as
	 * { kind, at, status, taskId }: the task a query, cancel or result download names in its path.
	 */
	const timeline = () => {
		const tasks = emu.tasks().map((t) => ({
			taskId: t.taskId,
			apiKey: t.apiKey,
			status: t.status,
			submitTime: t.submitTime,
			scheduledTime: t.scheduledTime,
			endTime: t.endTime,
			prompt: t.prompt,
		}));
		const ids = new Set(tasks.map((t) => t.taskId));
		const requests = emu.requests().map((r) => {
			const named = r.path.split(/[/?]/).find((part) => ids.has(part));
			const created = (r.responseBody as { output?: { task_id?: string } } | undefined)?.output?.task_id;
			return { kind: r.kind, at: r.at, status: r.status, taskId: named ?? (r.kind === 'submit' ? created : undefined) };
		});
		return { tasks, requests, counters: emu.counters() };
	};

	process.on('message', (msg: Cmd) => {
		if (msg.cmd === 'summary') process.send!({ id: msg.id, result: summary() });
		else if (msg.cmd === 'timeline') process.send!({ id: msg.id, result: timeline() });
		else if (msg.cmd === 'reset') {
			emu.reset();
			wireIn = 0;
			wireOut = 0;
			connections = 0;
			firstInAt = lastInAt = lastOutAt = 0;
			(globalThis as { gc?: () => void }).gc?.();
			process.send!({ id: msg.id, result: { ok: true } });
		} else if (msg.cmd === 'close') {
			proxy.close();
			void emu.close().then(() => {
				process.send!({ id: msg.id, result: { ok: true } });
				process.exit(0);
			});
		}
	});
	process.on('disconnect', () => process.exit(0));
	process.send!({ ready: true, url, keys: EMULATOR_KEYS });
}

main().catch((err) => {
	process.stderr.write(`bench emulator failed: ${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(1);
});
