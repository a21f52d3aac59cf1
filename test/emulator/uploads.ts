/**
 * Temporary uploads (§8): `GET /uploads?action=getPolicy&model=…` hands out an OSS POST policy whose
 * upload_host points back at the emulator (`/oss-upload/{region}`); the multipart form POST stores
 * the file, later referenced as `oss://{key}` with `X-DashScope-OssResourceResolve: enable`. Files are
 * bound to the uploading account (emulator key) and model and expire after 48 h.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';

import { UPLOAD_TTL_MS } from './models';
import { OSS_ACCESS_KEY_ID, ossErrorXml } from './results';
import type { RegionId } from './types';

const POLICY_TTL_MS = 3600 * 1000;
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

interface PolicyRecord {
	apiKey: string;
	model: string;
	region: RegionId;
	uploadDir: string;
	expiresAt: number;
}

interface StoredFile {
	bytes: Buffer;
	apiKey: string;
	model: string;
	expiresAt: number;
}

export interface UploadAnswer {
	status: number;
	/** XML error body (OSS style) when not successful. */
	xml?: string;
}

export class UploadStore {
	private readonly secret = randomUUID();
	private readonly policies = new Map<string, PolicyRecord>();
	private readonly files = new Map<string, StoredFile>();

	clear(): void {
		this.policies.clear();
		this.files.clear();
	}

	createPolicy(baseUrl: string, region: RegionId, apiKey: string, model: string, now: number): Record<string, unknown> {
		const day = new Date(now).toISOString().slice(0, 10);
		const uploadDir = `dashscope-instant/${createHash('md5').update(apiKey).digest('hex')}/${day}/${randomUUID()}`;
		const expiresAt = now + POLICY_TTL_MS;
		const policy = Buffer.from(
			JSON.stringify({
				expiration: new Date(expiresAt).toISOString(),
				conditions: [['content-length-range', 0, MAX_FILE_BYTES], ['starts-with', '$key', uploadDir]],
			}),
		).toString('base64');
		const signature = createHmac('sha1', this.secret).update(policy).digest('base64');
		this.policies.set(signature, { apiKey, model, region, uploadDir, expiresAt });
		return {
			policy,
			signature,
			upload_dir: uploadDir,
			upload_host: `${baseUrl}/oss-upload/${region}`,
			expire_in_seconds: POLICY_TTL_MS / 1000,
			max_file_size_mb: 100,
			capacity_limit_mb: 999999999,
			oss_access_key_id: OSS_ACCESS_KEY_ID,
			x_oss_object_acl: 'private',
			x_oss_forbid_overwrite: 'true',
		};
	}

	/** Handles the OSS form POST. */
	upload(contentType: string | undefined, body: Buffer, now: number): UploadAnswer {
		const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
		if (!contentType?.toLowerCase().startsWith('multipart/form-data') || !boundary) {
			return { status: 400, xml: ossErrorXml('InvalidArgument', 'The request must be multipart/form-data.') };
		}
		const fields = parseMultipart(body, (boundary[1] ?? boundary[2]).trim());
		const text = (name: string): string | undefined => fields.get(name)?.data.toString('utf8');
		const signature = text('Signature');
		const policy = text('policy');
		const record = signature ? this.policies.get(signature) : undefined;
		if (!record || !policy || createHmac('sha1', this.secret).update(policy).digest('base64') !== signature) {
			return { status: 403, xml: ossErrorXml('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.') };
		}
		if (text('OSSAccessKeyId') !== OSS_ACCESS_KEY_ID) {
			return { status: 403, xml: ossErrorXml('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.') };
		}
		if (now > record.expiresAt) {
			return { status: 403, xml: ossErrorXml('AccessDenied', 'Invalid according to Policy: Policy expired.') };
		}
		const key = text('key');
		if (!key || !key.startsWith(`${record.uploadDir}/`) || key.length === record.uploadDir.length + 1) {
			return {
				status: 403,
				xml: ossErrorXml('AccessDenied', `Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "${record.uploadDir}"]`),
			};
		}
		const file = fields.get('file');
		if (!file) return { status: 400, xml: ossErrorXml('InvalidArgument', 'The form has no file field.') };
		if (file.data.length > MAX_FILE_BYTES) return { status: 400, xml: ossErrorXml('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.') };
		const ossUrl = `oss://${key}`;
		const existing = this.files.get(ossUrl);
		if (existing && existing.expiresAt > now && text('x-oss-forbid-overwrite') === 'true') {
			return { status: 409, xml: ossErrorXml('FileAlreadyExists', 'The object you specified already exists and can not be overwritten.') };
		}
		this.files.set(ossUrl, { bytes: file.data, apiKey: record.apiKey, model: record.model, expiresAt: now + UPLOAD_TTL_MS });
		const wanted = text('success_action_status');
		return { status: wanted === '200' || wanted === '201' ? Number(wanted) : 204 };
	}

	/** The uploaded bytes, if the file exists, is unexpired and belongs to this account and model. */
	lookup(ossUrl: string, apiKey: string, model: string, now: number): Buffer | undefined {
		const file = this.files.get(ossUrl);
		if (!file || file.expiresAt <= now || file.apiKey !== apiKey || file.model !== model) return undefined;
		return file.bytes;
	}
}

interface Part {
	filename?: string;
	data: Buffer;
}

function parseMultipart(body: Buffer, boundary: string): Map<string, Part> {
	const parts = new Map<string, Part>();
	const delimiter = Buffer.from(`--${boundary}`);
	let pos = body.indexOf(delimiter);
	while (pos >= 0) {
		let start = pos + delimiter.length;
		if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
		if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
		const next = body.indexOf(delimiter, start);
		if (next < 0) break;
		const part = body.subarray(start, next - 2); // strip the CRLF before the delimiter
		const headerEnd = part.indexOf('\r\n\r\n');
		if (headerEnd >= 0) {
			const headers = part.subarray(0, headerEnd).toString('utf8');
			const name = /(?:^|;)\s*name="([^"]*)"/im.exec(headers)?.[1];
			const filename = /(?:^|;)\s*filename="([^"]*)"/im.exec(headers)?.[1];
			if (name !== undefined) parts.set(name, { filename, data: part.subarray(headerEnd + 4) });
		}
		pos = next;
	}
	return parts;
}
