/**
 * Generic pieces of the local emulators' HTTP servers (DashScope here, Runware in
 * test/emulator-runware/): keep-alive server setup, loopback listen/close, body reading, header
 * flattening, and sleeps that closing cuts short. No API knowledge.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server whose idle keep-alive sockets live a minute, like a cloud load balancer's. */
export function createKeepAliveServer(handler: http.RequestListener): http.Server {
	const server = http.createServer({ keepAlive: true }, handler);
	// Node's 5 s default makes a client that reuses a socket just as the server drops it (likely on a
	// loaded 2-core CI box) see ECONNRESET on a POST, which no client may blindly retry.
	server.keepAliveTimeout = 65_000;
	server.headersTimeout = 70_000;
	return server;
}

/**
 * A keep-alive server that runs `dispatch` per request; an unexpected error is written to stderr under
 * `label` and, when nothing was sent yet, answered by `internalError`.
 */
export function createEmulatorServer(
	label: string,
	dispatch: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
	internalError: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): http.Server {
	return createKeepAliveServer((req, res) => {
		dispatch(req, res).catch((err) => {
			process.stderr.write(`[${label}] internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
			if (!res.headersSent && !res.destroyed) internalError(req, res);
		});
	});
}

/** Listens and resolves the origin to advertise ('http://127.0.0.1:PORT'). */
export function listenOrigin(server: http.Server, port: number, host: string): Promise<string> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			const addr = server.address() as AddressInfo;
			// Result URLs embed this origin, so a wildcard bind is advertised as loopback.
			const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
			const shownHost = wildcard ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
			resolve(`http://${shownHost}:${addr.port}`);
		});
	});
}

/** Closes the server and drops every connection, idle keep-alive ones included, so it never hangs. */
export function closeServer(server: http.Server): Promise<void> {
	return new Promise((resolve) => {
		server.close(() => resolve());
		server.closeAllConnections();
	});
}

/** The body; past `maxBytes` it is dropped (empty) and `tooLarge` is set. */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<{ body: Buffer; tooLarge: boolean }> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBytes) tooLarge = true;
			else chunks.push(chunk);
		});
		req.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
		req.on('error', reject);
	});
}

/** Lower-case header names; repeated headers joined with ', '. */
export function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined) continue;
		out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
	}
	return out;
}

/** Delays that wakeAll() (server closing) ends at once, so no timer outlives the server. */
export class Sleeper {
	private closed = false;
	private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

	sleep(ms: number): Promise<void> {
		if (ms <= 0 || this.closed) return Promise.resolve();
		return new Promise((resolve) => {
			const entry = {
				timer: setTimeout(() => {
					this.sleepers.delete(entry);
					resolve();
				}, ms),
				resolve,
			};
			this.sleepers.add(entry);
		});
	}

	/** Ends every pending sleep now and makes later ones return at once. */
	wakeAll(): void {
		this.closed = true;
		for (const entry of this.sleepers) {
			clearTimeout(entry.timer);
			entry.resolve();
		}
		this.sleepers.clear();
	}
}
