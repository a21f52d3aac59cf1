// Helpers for preparing workflows and reading `n8n execute --rawOutput` results.

/** Replace every credential reference of `type` in a workflow with the imported credential. */
export function rewriteCredentials(workflow, type, cred) {
	let n = 0;
	for (const node of workflow.nodes || []) {
		if (!node.credentials) continue;
		for (const key of Object.keys(node.credentials)) {
			if (key === type) {
				node.credentials[key] = { id: cred.id, name: cred.name };
				n++;
			}
		}
	}
	return n;
}

/** The IRun's runData (n8n execute --rawOutput prints the whole IRun). */
export function runDataOf(output) {
	return output?.data?.resultData?.runData ?? null;
}

export function executionError(output) {
	return output?.data?.resultData?.error ?? null;
}

/** All output items of a node's runs: [{ runIndex, outputIndex, item }]. */
export function nodeItems(output, nodeName) {
	const rd = runDataOf(output);
	const runs = rd?.[nodeName] ?? [];
	const out = [];
	runs.forEach((run, runIndex) => {
		(run?.data?.main ?? []).forEach((items, outputIndex) => {
			for (const item of items ?? []) out.push({ runIndex, outputIndex, item });
		});
	});
	return out;
}

export function nodeRunErrors(output) {
	const rd = runDataOf(output) ?? {};
	const errs = [];
	for (const [name, runs] of Object.entries(rd)) {
		for (const run of runs ?? []) if (run?.error) errs.push(`${name}: ${run.error.message ?? brief(run.error, 200)}`);
	}
	return errs;
}

/** Depth-first search for values whose key matches `re` (returns [{ path, value }]). */
export function findKeys(obj, re, maxDepth = 8) {
	const hits = [];
	const walk = (v, p, d) => {
		if (d > maxDepth || v === null || typeof v !== 'object') return;
		for (const [k, val] of Object.entries(v)) {
			const kp = p ? `${p}.${k}` : k;
			if (re.test(k)) hits.push({ path: kp, value: val });
			walk(val, kp, d + 1);
		}
	};
	walk(obj, '', 0);
	return hits;
}

/** Throws Error(msg) when !cond; `msg` may be a function (evaluated only on failure). */
export function assert(cond, msg) {
	if (!cond) throw new Error(typeof msg === 'function' ? msg() : msg);
}

/** JSON for messages, never throws, truncated. */
export function brief(v, n = 300) {
	let s;
	try {
		s = JSON.stringify(v);
	} catch {
		s = String(v);
	}
	return String(s).slice(0, n);
}
