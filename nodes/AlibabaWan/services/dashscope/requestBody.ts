/**
 * Checked parameters + prepared images → the model's request body, for its protocol:
 * `input.messages` for 2.7/2.6, `input.prompt` + `input.images` for 2.5 (DASHSCOPE_API.md §4).
 * Images stay streamed payloads; the body is serialised by buildStreamingJsonBody.
 */
import type { ImageOperation, ModelEntry } from '../../catalog/modelCatalog';
import { getOperationSpec } from '../../catalog/modelCatalog';
import type { ImageTaskParameters } from '../../catalog/taskParameters';
import type { PreparedImage } from '../../images/imageSources';
import type { StreamingJsonBody } from '../../transport/types';
import { buildStreamingJsonBody } from '../../request/streamingJsonBody';
import { dashScopeModels } from './models';

/** Only what the user set (or the node's explicit cost-control default for n) is sent. */
function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
	return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function buildRequestBody(
	model: ModelEntry,
	operation: ImageOperation,
	parameters: ImageTaskParameters,
	images: PreparedImage[],
): StreamingJsonBody {
	const spec = getOperationSpec(model, operation);
	const shared = {
		size: parameters.size,
		n: parameters.n,
		seed: parameters.seed,
		watermark: parameters.watermark,
	};

	if (dashScopeModels[model.id].protocol === 'image-synthesis') {
		return buildStreamingJsonBody({
			model: model.id,
			input: defined({
				prompt: parameters.prompt,
				images: images.map((image) => image.value),
				negative_prompt: parameters.negativePrompt,
			}),
			parameters: defined({ ...shared, prompt_extend: parameters.promptExtend }),
		});
	}

	const content: Array<Record<string, unknown>> = images.map((image) => ({ image: image.value }));
	content.push({ text: parameters.prompt });
	const hasBoxes = images.some((image) => image.boxes.length > 0);
	return buildStreamingJsonBody({
		model: model.id,
		input: { messages: [{ role: 'user', content }] },
		parameters: defined({
			...shared,
			negative_prompt: parameters.negativePrompt,
			prompt_extend: parameters.promptExtend,
			enable_interleave: spec.interleave ? true : undefined,
			max_images: spec.interleave ? parameters.maxImages : undefined,
			enable_sequential: spec.sequential ? true : undefined,
			thinking_mode: parameters.thinkingMode,
			color_palette: parameters.colorPalette,
			// One list per input image, `[]` where an image has none (outer length = image count).
			bbox_list: hasBoxes ? images.map((image) => image.boxes) : undefined,
		}),
	});
}
