/**
 * Result files, served like signed OSS objects: `/results/{region}/{taskId}/{index}.png?Expires=…
 * &OSSAccessKeyId=…&Signature=…`. No Authorization needed; a bad signature or an Expires in the
 * past (emulator clock, 24 h after the task ended) answers 403 with an OSS-style XML error. PNGs are
 * rendered on first download and cached per task/image.
 */
import { createHmac, randomUUID } from 'node:crypto';

import { renderPng, type RenderSpec } from './png';

export const OSS_ACCESS_KEY_ID = 'LTAI5tDashScopeEmulator';

export class ResultSigner {
	private readonly secret = randomUUID();

	sign(path: string, expiresSec: number): string {
		return createHmac('sha1', this.secret).update(`GET\n\n\n${expiresSec}\n${path}`).digest('base64');
	}

	/** Full signed URL for the image `index` (0-based) of a task. */
	url(baseUrl: string, region: string, taskId: string, index: number, expiresSec: number): string {
		const path = resultPath(region, taskId, index);
		const query = new URLSearchParams({
			Expires: String(expiresSec),
			OSSAccessKeyId: OSS_ACCESS_KEY_ID,
			Signature: this.sign(path, expiresSec),
		});
		return `${baseUrl}${path}?${query.toString()}`;
	}

	verify(path: string, expires: string | null, signature: string | null): boolean {
		if (!expires || !signature || !/^\d+$/.test(expires)) return false;
		return this.sign(path, Number(expires)) === signature;
	}
}

export function resultPath(region: string, taskId: string, index: number): string {
	return `/results/${region}/${taskId}/${index}.png`;
}

export function parseResultPath(path: string): { region: string; taskId: string; index: number } | undefined {
	const m = /^\/results\/([a-z0-9-]+)\/([A-Za-z0-9-]+)\/(\d+)\.png$/.exec(path);
	return m ? { region: m[1], taskId: m[2], index: Number(m[3]) } : undefined;
}

/** Small LRU of rendered PNGs (promises, so concurrent downloads render once). */
export class PngCache {
	private readonly entries = new Map<string, Promise<Buffer>>();

	constructor(private readonly capacity = 24) {}

	get(key: string, spec: RenderSpec): Promise<Buffer> {
		let entry = this.entries.get(key);
		if (entry) {
			this.entries.delete(key);
		} else {
			entry = renderPng(spec);
			entry.catch(() => this.entries.delete(key));
		}
		this.entries.set(key, entry);
		while (this.entries.size > this.capacity) {
			const oldest = this.entries.keys().next().value as string;
			this.entries.delete(oldest);
		}
		return entry;
	}

	clear(): void {
		this.entries.clear();
	}
}

/** OSS error document (OSS answers XML). */
export function ossErrorXml(code: string, message: string, extra: Record<string, string> = {}): string {
	const fields = Object.entries(extra)
		.map(([k, v]) => `  <${k}>${escapeXml(v)}</${k}>\n`)
		.join('');
	return (
		'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n' +
		`  <Code>${escapeXml(code)}</Code>\n  <Message>${escapeXml(message)}</Message>\n` +
		`  <RequestId>${randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase()}</RequestId>\n` +
		`  <HostId>dashscope-result-emulator.oss-emulator.aliyuncs.com</HostId>\n${fields}</Error>\n`
	);
}

function escapeXml(s: string): string {
	return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}
