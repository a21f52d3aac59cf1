/**
 * n8n's "Retry On Fail" setting re-runs the whole node after an error, and every re-run of an image
 * operation submits new tasks, each billed. The node cannot switch the setting off; it says so in the
 * panel (the notice below) and, when the setting is on, as a warning on the output of each run.
 */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

export const retryOnFailMessage =
	'Retry On Fail (node Settings) re-runs the whole node after an error, and every retry submits new tasks that are billed again — ' +
	'including images of items that had already succeeded. The node already retries what is safe (rate limits, network errors before a task exists). ' +
	'Leave Retry On Fail off; use "Continue On Fail" plus "Wait for Task" to collect what was submitted.';

/** The panel notice, shown with the image operations (the ones that create billed tasks). */
export function retryNotice(operation: string): INodeProperties {
	return {
		displayName: retryOnFailMessage,
		name: 'retryOnFailNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { operation: [operation] } },
	};
}

const taskCreatingOperations = new Set(['generateImage', 'editImage', 'fuseImages', 'generateImageSet']);

export function warnIfRetryOnFail(ctx: IExecuteFunctions): void {
	const node = ctx.getNode();
	if (!node.retryOnFail) return;
	const operation = ctx.getNodeParameter('operation', 0, '') as string;
	if (!taskCreatingOperations.has(operation)) return;
	if (ctx.getNodeParameter('runMode', 0, 'wait') === 'validate') return;
	ctx.addExecutionHints({ message: retryOnFailMessage, type: 'warning', location: 'outputPane' });
}
