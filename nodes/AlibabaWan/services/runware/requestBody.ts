/**
 * Checked parameters + prepared images + Runware Options → one `imageInference` task (RUNWARE_API.md §4),
 * sent as a one-element array. Always `deliveryMethod: "async"` and `outputType: "URL"`; only what the
 * user set (or the node's explicit count) is sent. Images stay streamed payloads (data URIs) or URLs.
 */
import { randomUUID } from 'node:crypto';

import type { ImageOperation, ModelEntry } from '../../catalog/modelCatalog';
import { getOperationSpec } from '../../catalog/modelCatalog';
import type { ImageTaskParameters } from '../../catalog/taskParameters';
import type { PreparedImage } from '../../images/imageSources';
import { buildStreamingJsonBody } from '../../request/streamingJsonBody';
import type { StreamingJsonBody } from '../../transport/types';
import type { ServiceOptionValues } from '../types';
import { runwareModels, runwareSize, sideRule, type RunwareModelId } from './models';

export interface RunwareRequest {
	taskUUID: string;
	body: StreamingJsonBody;
	/** The ttl asked for and the size sent: what the results report. */
	ttlSeconds?: number;
	size: string;
	/** `numberResults` as sent: exact, or the upper bound of an image set. */
	numberResults: number;
	/** Images owed when the count is exact (not an image set). */
	requestedImages?: number;
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> | undefined {
	const kept = Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
	return Object.keys(kept).length ? kept : undefined;
}

export function buildInference(
	model: ModelEntry,
	operation: ImageOperation,
	parameters: ImageTaskParameters,
	images: PreparedImage[],
	options: ServiceOptionValues,
): RunwareRequest {
	const spec = getOperationSpec(model, operation);
	// Runware needs a width and height even when editing: the last image's aspect, as DashScope's default.
	const last = images[images.length - 1]?.probe;
	const aspect = last ? last.width / last.height : 1;
	const { width, height } = runwareSize(parameters.size, aspect, spec.size.side ?? sideRule.side, spec.size.step ?? sideRule.step);
	const taskUUID = randomUUID();
	const ttlSeconds = options.urlLifetimeSeconds as number | undefined;
	const hasBoxes = images.some((image) => image.boxes.length > 0);
	const task = {
		taskType: 'imageInference',
		taskUUID,
		model: runwareModels[model.id as RunwareModelId],
		positivePrompt: parameters.prompt,
		width,
		height,
		numberResults: parameters.n,
		seed: parameters.seed,
		deliveryMethod: 'async',
		outputType: 'URL',
		outputFormat: options.imageFormat,
		outputQuality: options.imageQuality,
		includeCost: options.includeCost,
		ttl: ttlSeconds,
		inputs: images.length ? { referenceImages: images.map((image) => image.value) } : undefined,
		settings: defined({
			sequential: spec.sequential ? true : undefined,
			thinking: parameters.thinkingMode,
			colorPalette: parameters.colorPalette,
			// One list per reference image, `[]` where an image has none; boxes as [x1, y1, x2, y2] (R004's form).
			editRegions: hasBoxes ? images.map((image) => image.boxes) : undefined,
		}),
	};
	return {
		taskUUID,
		body: buildStreamingJsonBody([defined(task)]),
		ttlSeconds,
		size: `${width}*${height}`,
		numberResults: parameters.n,
		requestedImages: spec.sequential ? undefined : parameters.n,
	};
}
