/**
 * Where a service differs from the model catalog. A service states its differences declaratively in its
 * own folder (services/<id>/); they are applied here and nowhere else, and everything downstream reads
 * the effective entry: the zod validation (taskParameters), the image checks (images/), the request
 * builder and the editor's options and hints. So a narrowed limit is both shown in the panel and refused
 * before anything is sent. The catalog stays the single source of the models' own limits.
 */
import {
	modelCatalog,
	modelIds,
	type ImageOperation,
	type InputImageLimits,
	type ModelEntry,
	type ModelId,
	type OperationSpec,
	type SizeRule,
} from './modelCatalog';

/** One operation's differences: any field of the spec replaced; `size` merged field by field. */
export type OperationDifferences = Partial<Omit<OperationSpec, 'size'>> & { size?: Partial<SizeRule> };

/** One model's differences on a service. Fields replace the catalog's; nested objects merge. */
export interface ModelDifferences {
	promptMaxLength?: number;
	promptMinLength?: number;
	seed?: boolean;
	watermark?: boolean;
	inputImages?: Partial<InputImageLimits>;
	/** Applied to every operation of the model first, then `operations[operation]` on top. */
	everyOperation?: OperationDifferences;
	operations?: Partial<Record<ImageOperation, OperationDifferences>>;
	/** Shown in the Model option instead of the catalog's description. */
	description?: string;
}

export type ServiceDifferences = Partial<Record<ModelId, ModelDifferences>>;

/** What this file needs of a service (services/types.ts WanService has both). */
export interface ServedModels {
	readonly models: readonly ModelId[];
	readonly modelDifferences?: ServiceDifferences;
}

function applyToOperation(spec: OperationSpec, ...layers: Array<OperationDifferences | undefined>): OperationSpec {
	let effective = spec;
	for (const layer of layers) {
		if (!layer) continue;
		effective = { ...effective, ...layer, size: { ...effective.size, ...layer.size } } as OperationSpec;
	}
	return effective;
}

/** The catalog entry with one service's differences applied. */
export function applyDifferences(model: ModelEntry, differences: ModelDifferences | undefined): ModelEntry {
	if (!differences) return model;
	const { everyOperation, operations, inputImages, ...fields } = differences;
	const effectiveOperations: Partial<Record<ImageOperation, OperationSpec>> = {};
	for (const [operation, spec] of Object.entries(model.operations) as Array<[ImageOperation, OperationSpec]>) {
		effectiveOperations[operation] = applyToOperation(spec, everyOperation, operations?.[operation]);
	}
	return {
		...model,
		...fields,
		inputImages: { ...model.inputImages, ...inputImages },
		operations: effectiveOperations,
	};
}

/** The model as `service` runs it, or undefined when the service does not serve it. */
export function serviceModel(service: ServedModels, id: string): ModelEntry | undefined {
	if (!(service.models as readonly string[]).includes(id)) return undefined;
	const model = (modelCatalog as Record<string, ModelEntry | undefined>)[id];
	return model && applyDifferences(model, service.modelDifferences?.[model.id]);
}

/** The service's models offering `operation`, effective, in catalog order. */
export function serviceModelsFor(service: ServedModels, operation: ImageOperation): ModelEntry[] {
	return modelIds.map((id) => serviceModel(service, id)).filter((model): model is ModelEntry => Boolean(model?.operations[operation]));
}
