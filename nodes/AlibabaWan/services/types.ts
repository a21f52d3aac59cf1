/**
 * The interface between the shared pipeline (actions/, images/, output/, tasks/) and one image service
 * (services/<id>/). The pipeline reads an item, checks it against the model catalog and the service's
 * differences, and then only asks the session: build the request, submit it, read the task, cancel it,
 * download a result. It never branches on a service's name and never imports a service's folder
 * (test/services.boundary.test.ts enforces both); services are found through services/index.ts.
 */
import type { ImageOperation, ModelEntry, ModelId } from '../catalog/modelCatalog';
import type { ServiceDifferences } from '../catalog/serviceDifferences';
import type { ImageTaskParameters } from '../catalog/taskParameters';
import type { PreparedImage } from '../images/imageSources';
import type { TaskResult, TaskStatus } from '../tasks/taskResults';
import type { CallOptions, DownloadedResult, StreamingJsonBody } from '../transport/types';

export type { TaskResult, TaskStatus };

/** A service: what the node needs before it has a key. */
export interface WanService {
	/** The `service` parameter's value; stable, saved in workflows. */
	readonly id: string;
	/** Shown in the Service option. */
	readonly displayName: string;
	/** Short name used in messages ("DashScope rejected…"). */
	readonly shortName: string;
	/** n8n credential type this service's key is stored in. */
	readonly credentialType: string;
	/**
	 * The models this service serves. Their limits are the catalog's (catalog/modelCatalog.ts); what a
	 * service adds or narrows (DashScope: regions per model) it states in its folder and checks in
	 * `WanSession.modelProblem`.
	 */
	readonly models: readonly ModelId[];
	/**
	 * Where this service's limits differ from the catalog's (e.g. width/height 768–2048 in steps of 16),
	 * stated per model. Applied in one place (catalog/serviceDifferences.ts): validation, image checks,
	 * `buildRequest` and the editor all get the effective entry.
	 */
	readonly modelDifferences?: ServiceDifferences;
	/**
	 * The service's own options (output format, quality…), shown in a "<shortName> Options" collection of
	 * the operations they apply to, only when this service is chosen. Each value the user set is read per
	 * item with the typed readers, checked against its rule before anything is sent, and handed to
	 * `buildRequest` under its `name`; options left out are absent (the service sends its API's default).
	 */
	readonly options?: readonly ServiceOption[];
	/**
	 * Operations this service cannot run, with the reason in full sentences (e.g. Cancel Task: "Runware
	 * cannot cancel a task: …"). The node refuses them before anything is sent, and the editor shows the
	 * reason as a notice.
	 */
	/**
	 * A rule the declarative differences cannot state (across fields, images and options), checked after
	 * everything else and before anything is sent: the problem in words ("Field: why, and the fix"), or
	 * undefined. The pipeline reports it as the item's error ("Item 2: …").
	 */
	requestProblem?(
		model: ModelEntry,
		operation: ImageOperation,
		parameters: ImageTaskParameters,
		images: PreparedImage[],
		options: ServiceOptionValues,
	): string | undefined;
	readonly refusedOperations?: Readonly<Partial<Record<'waitForTask' | 'cancelTask', string>>>;
	/** Image URL schemes the service fetches itself (with their colon, e.g. 'https:'); other URLs are refused. */
	readonly imageUrlSchemes: readonly string[];
	/** How long a task ID can still be collected (and its result URLs fetched) after it was created. */
	readonly taskValidityMs: number;
	/** Everything in a credential that must never appear in outputs, errors or logs (the key, as given and trimmed). */
	secretsOf(credentials: Record<string, unknown>): string[];
	/**
	 * A credential → a session. May throw a plain Error with a user-facing message (bad base URL…);
	 * nothing is sent here.
	 */
	connect(credentials: Record<string, unknown>): WanSession;
}

/** A value of a service option, as read and checked (see `ServiceOption`). */
export type ServiceOptionValue = string | number | boolean;
/** The service options the user set on one item, by option name. */
export type ServiceOptionValues = Readonly<Record<string, ServiceOptionValue>>;

interface ServiceOptionBase {
	displayName: string;
	/** Key in the collection and in `ServiceOptionValues`; stable, saved in workflows. */
	name: string;
	description: string;
	/** Operations showing this option; default: the four image operations. */
	operations?: readonly string[];
}

/** One option a service adds to the panel, with the rule its value is checked against. */
export type ServiceOption = ServiceOptionBase &
	(
		| { type: 'options'; options: ReadonlyArray<{ name: string; value: string; description?: string }>; default: string }
		| { type: 'number'; min: number; max: number; integer?: boolean; unit?: string; default: number }
		| { type: 'boolean'; default: boolean }
		| { type: 'string'; default: string; placeholder?: string }
	);

/** One service's request for one item: the body (streamed) and where it goes. */
export interface ServiceRequest {
	model: ModelEntry;
	operation: ImageOperation;
	body: StreamingJsonBody;
	/** The service's name for where the body is sent (e.g. a route), shown by dry runs. */
	route?: string;
}

/** What a submit returned. A synchronous service answers with the finished `result` directly. */
export interface SubmittedTask {
	taskId: string;
	status: TaskStatus;
	requestId?: string;
	/** Set when the answer was lost and the task was found afterwards (never submitted again). */
	adopted?: string;
	/** Present when the service answered with the finished task (no polling needed). */
	result?: TaskResult;
}

/** One look at a task. `result` is set once the status is terminal. */
export interface TaskSnapshot {
	taskId: string;
	status: TaskStatus;
	requestId?: string;
	result?: TaskResult;
	/**
	 * The service's own times for the task, epoch ms on the service's clock, when it reports them: when it
	 * was submitted, started running, ended. Only their differences are used (the poll scheduler learns
	 * run lengths from them), so an unknown zone or a skewed clock does no harm.
	 */
	submittedAt?: number;
	startedAt?: number;
	endedAt?: number;
}

/**
 * What a batch look saw of one task: its status and the service's times (as in TaskSnapshot). Never a
 * result: a task a look saw end is read on its own (getTask), so every rule of the read decides its end.
 */
export type TaskGlance = Omit<TaskSnapshot, 'result' | 'requestId'>;

/** What the service says where the shared messages need its own words (each ends without a period). */
export interface ServiceTexts {
	/** Why a task ID came back UNKNOWN when waiting for it. */
	unknownTask: string;
	/** Why a task ID came back UNKNOWN when cancelling it. */
	unknownTaskOnCancel: string;
	/** Why a running task cannot be cancelled. */
	runningNotCancellable: string;
}

/** A service with a key: every call the pipeline makes. Holds the key; never hands it out. */
export interface WanSession {
	readonly service: WanService;
	/** Where requests go, reported on output items (DashScope: the region ID); undefined if the service has none. */
	readonly location?: string;
	readonly texts: ServiceTexts;
	/** Statuses from which `cancelTask` can cancel; empty when the service cannot cancel at all. */
	readonly cancellableStatuses: readonly TaskStatus[];

	/** Why this credential cannot run `model` (e.g. not served in its region), or undefined. */
	modelProblem(model: ModelEntry): string | undefined;
	/**
	 * Checked parameters + prepared images + the service options the user set → the service's request
	 * (nothing is sent). `model` is the effective entry (the service's differences applied).
	 */
	buildRequest(
		model: ModelEntry,
		operation: ImageOperation,
		parameters: ImageTaskParameters,
		images: PreparedImage[],
		options: ServiceOptionValues,
	): ServiceRequest;
	/**
	 * Creates the task. Never sends it twice unless the service proves the first attempt created nothing;
	 * an ambiguous failure throws an ApiError with `taskMayExist` (and `candidateTaskIds` when known).
	 */
	submitTask(request: ServiceRequest, opts: CallOptions): Promise<SubmittedTask>;
	/** Reads a task; `requestedImages` lets the result report images the service owed but did not return. */
	getTask(taskId: string, opts: CallOptions & { requestedImages?: number }): Promise<TaskSnapshot>;
	/** Cancels a task in one of `cancellableStatuses`. */
	cancelTask(taskId: string, opts: CallOptions): Promise<{ requestId?: string }>;
	/** Streams one result image (a URL from a TaskResult). */
	downloadResult(url: string, opts: CallOptions): Promise<DownloadedResult>;
	/**
	 * A batch look (optional): ONE request that reports the state of several tasks, so the poll scheduler
	 * can watch every running task of an execution for the price of one query (DashScope: the task list;
	 * Runware: several getResponse tasks in one request). The answer holds a glance for each task the
	 * service reported; a task left out is simply not covered (the scheduler keeps reading it on its own).
	 * A glance with a terminal status means "ended: read it for its result" (getTask).
	 * Throws like getTask; a non-transient failure turns batch looks off for the execution.
	 */
	lookAtTasks?(taskIds: readonly string[], opts: CallOptions): Promise<Map<string, TaskGlance>>;
	/**
	 * Task queries per second this process may send for the account now (the service's limit, lowered
	 * for a while after the service answered 429); the poll scheduler plans within it. Optional: without
	 * it the scheduler assumes a modest 10/s.
	 */
	queryBudget?(): number;
	/** Whether a failed status read is worth asking again (network, 429, 5xx), as opposed to final. */
	isTransient(error: unknown): boolean;
	/** A hint for a task that ended with `code`, in the service's terms. */
	hintFor(code: string, message: string): string | undefined;
}
