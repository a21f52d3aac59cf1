/**
 * Checked parameters + prepared images → the body of `POST {base}/images/generations`, field for field
 * as seed 002 names them (GATEWAY_API.md §2), in the credential's dialect: the image field's name and
 * shape, and `WxH` or `W*H` for explicit sizes. Only what the user set is sent (the gateways' defaults
 * differ, §8), plus `n` (the node's cost-control default) and `response_format` (the node must know
 * what comes back). Images stay streamed payloads.
 */
import { getOperationSpec, type ImageOperation, type ModelEntry } from '../../catalog/modelCatalog';
import type { ImageTaskParameters } from '../../catalog/taskParameters';
import type { PreparedImage } from '../../images/imageSources';
import { buildStreamingJsonBody } from '../../request/streamingJsonBody';
import type { StreamingJsonBody } from '../../transport/types';
import type { GatewaySettings } from './settings';

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
	return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** `1536*1024` (the catalog's form) in the dialect's style; tiers (`1K`, `2K`, `4K`) as they are. */
export function sizeForGateway(size: string | undefined, settings: Pick<GatewaySettings, 'sizeStyle'>): string | undefined {
	if (size === undefined) return undefined;
	const pixels = /^(\d+)\*(\d+)$/.exec(size);
	return pixels && settings.sizeStyle === 'WxH' ? `${pixels[1]}x${pixels[2]}` : size;
}

/** The image fields for this dialect: `image` (string or array), or `images` (array). */
function imageFields(images: PreparedImage[], settings: Pick<GatewaySettings, 'imageField'>): Record<string, unknown> {
	if (!images.length) return {};
	const values = images.map((image) => image.value);
	if (settings.imageField === 'images') return { images: values };
	if (settings.imageField === 'imageArray' || values.length > 1) return { image: values };
	return { image: values[0] };
}

export function buildRequestBody(
	model: ModelEntry,
	operation: ImageOperation,
	parameters: ImageTaskParameters,
	images: PreparedImage[],
	settings: GatewaySettings,
): StreamingJsonBody {
	const spec = getOperationSpec(model, operation);
	const hasBoxes = images.some((image) => image.boxes.length > 0);
	return buildStreamingJsonBody(
		defined({
			model: settings.modelIds[model.id as keyof GatewaySettings['modelIds']] ?? model.id,
			prompt: parameters.prompt,
			...imageFields(images, settings),
			n: parameters.n,
			size: sizeForGateway(parameters.size, settings),
			enable_sequential: spec.sequential ? true : undefined,
			thinking_mode: parameters.thinkingMode,
			watermark: parameters.watermark,
			seed: parameters.seed,
			response_format: settings.responseFormat,
			// One list per input image, `[]` where an image has none (outer length = image count).
			bbox_list: hasBoxes ? images.map((image) => image.boxes) : undefined,
			color_palette: parameters.colorPalette,
		}),
	);
}
