import type { ImageOperation } from '../catalog/modelCatalog';
import { prepareImageTask, runImageTask, type PreparedImageTask } from './imageTask';
import type { OperationHandler } from './operation';

/** The four image operations differ only in their UI and their catalog entry. */
export function imageOperation(operation: ImageOperation): OperationHandler<PreparedImageTask> {
	return {
		prepare: (ctx, itemIndex, env) => prepareImageTask(ctx, itemIndex, operation, env),
		run: runImageTask,
	};
}
