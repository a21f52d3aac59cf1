/**
 * A gateway credential → the settings the client runs with. Gateways differ in a few details
 * (GATEWAY_API.md §8); each is a credential setting whose default is seed 002's behaviour.
 */
import type { ModelId } from '../../catalog/modelCatalog';
import type { ServiceDifferences } from '../../catalog/serviceDifferences';
import { checkBaseUrl } from '../../transport/serviceCalls';

/** How input images are sent (GATEWAY_API.md §3). */
export type ImageField =
	/** Seed 002: `image`, a string for one image and an array for several. */
	| 'image'
	/** `image`, always an array. */
	| 'imageArray'
	/** Modelverse / new-api: `images`, always an array. */
	| 'images';

/** How explicit pixel sizes are written: seed 002 `1536x1024`, upstream `1536*1024`. */
export type SizeStyle = 'WxH' | 'W*H';

export type ResponseFormat = 'url' | 'b64_json';

/** The credential's fields as n8n stores them (credentials/WanGatewayApi.credentials.ts). */
export interface GatewayCredentials {
	baseUrl: string;
	apiKey: string;
	path?: string;
	imageField?: ImageField;
	sizeStyle?: SizeStyle;
	responseFormat?: ResponseFormat;
	requestTimeoutSeconds?: number;
	modelIdImage?: string;
	modelIdImagePro?: string;
}

export interface GatewaySettings {
	/** `{base}` with no trailing slash, e.g. `https://host/v1`. */
	baseUrl: string;
	apiKey: string;
	/** `/images/generations` unless the gateway puts it elsewhere. */
	path: string;
	imageField: ImageField;
	sizeStyle: SizeStyle;
	responseFormat: ResponseFormat;
	/** Per request, ms: one generation can take minutes (upstream gives up at 300 s). */
	requestTimeoutMs: number;
	/** The gateway's name for each model (gateways rename models). */
	modelIds: Record<Extract<ModelId, 'wan2.7-image' | 'wan2.7-image-pro'>, string>;
}

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 300;
export const requestTimeoutRange = { min: 30, max: 1800 };

/** The models a gateway serves (seed 002): the catalog's two Wan 2.7 entries. */
export const gatewayModels = ['wan2.7-image-pro', 'wan2.7-image'] as const satisfies readonly ModelId[];

function choice<T extends string>(value: unknown, allowed: readonly T[], fallback: T, label: string): T {
	if (value === undefined || value === null || value === '') return fallback;
	if ((allowed as readonly unknown[]).includes(value)) return value as T;
	throw new Error(`The credential's ${label} "${String(value)}" is not one of ${allowed.join(', ')}`);
}

/** Checks a credential; throws a plain Error naming the field (nothing is sent). */
export function readSettings(raw: Record<string, unknown>): GatewaySettings {
	const credentials = raw as Partial<GatewayCredentials>;
	const baseText = String(credentials.baseUrl ?? '').trim();
	if (!baseText) throw new Error("The credential's Base URL is empty: enter the gateway's API base, e.g. https://gateway.example.com/v1");
	const baseUrl = checkBaseUrl(baseText, "The credential's Base URL");
	const base = new URL(baseUrl);
	// The Path is appended to it: a query or fragment would swallow the path.
	if (base.search || base.hash) throw new Error("The credential's Base URL must not contain ? or #: enter only the API base, e.g. https://gateway.example.com/v1");
	const pathText = String(credentials.path ?? '').trim() || '/images/generations';
	if (!/^\/?[A-Za-z0-9._~\-/]+$/.test(pathText) || pathText.split('/').some((segment) => segment === '..' || segment === '.')) {
		throw new Error(`The credential's Path "${pathText}" is not a URL path like /images/generations`);
	}
	const seconds = credentials.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
	if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < requestTimeoutRange.min || seconds > requestTimeoutRange.max) {
		throw new Error(
			`The credential's Request Timeout must be ${requestTimeoutRange.min} to ${requestTimeoutRange.max} seconds, got ${String(seconds)}`,
		);
	}
	const modelId = (value: unknown, fallback: string, label: string) => {
		const text = String(value ?? '').trim() || fallback;
		if (text.length > 200 || /[\s"\\]/.test(text)) throw new Error(`The credential's ${label} "${text.slice(0, 60)}" is not a model ID`);
		return text;
	};
	return {
		baseUrl,
		apiKey: String(credentials.apiKey ?? '').trim(),
		path: `/${pathText.replace(/^\/+/, '')}`,
		imageField: choice(credentials.imageField, ['image', 'imageArray', 'images'] as const, 'image', 'Image Field'),
		sizeStyle: choice(credentials.sizeStyle, ['WxH', 'W*H'] as const, 'WxH', 'Size Format'),
		responseFormat: choice(credentials.responseFormat, ['url', 'b64_json'] as const, 'url', 'Image Delivery'),
		requestTimeoutMs: Math.round(seconds * 1000),
		modelIds: {
			'wan2.7-image': modelId(credentials.modelIdImage, 'wan2.7-image', 'Model ID for Wan 2.7 Image'),
			'wan2.7-image-pro': modelId(credentials.modelIdImagePro, 'wan2.7-image-pro', 'Model ID for Wan 2.7 Image Pro'),
		},
	};
}

/**
 * Where seed 002 differs from the catalog's Wan 2.7 entries. Its limits are the catalog's (up to 9
 * images of 20 MB, prompt ≤ 5000, n 1–4 or 1–12 in a set, 4K only for Pro text-to-image); only the
 * colour palette is not offered: seed 002 does not list `color_palette` (UNCONFIRMED whether gateways
 * pass it on), and an ignored palette would still bill the images.
 */
const withoutPalette = { everyOperation: { colorPalette: false } };
export const gatewayDifferences: ServiceDifferences = {
	'wan2.7-image-pro': withoutPalette,
	'wan2.7-image': withoutPalette,
};
