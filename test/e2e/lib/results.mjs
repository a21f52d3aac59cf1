// Pass/fail bookkeeping: each check prints one readable line; the run ends with "N passed, N failed".
import { log, fmtSecs } from './util.mjs';

export class Results {
	constructor() {
		this.items = [];
	}

	get failed() {
		return this.items.filter((i) => i.status === 'FAIL').length;
	}

	get passed() {
		return this.items.filter((i) => i.status === 'PASS').length;
	}

	/** Run `fn`; its return value (string) is the summary. Never throws. Returns fn's result or undefined. */
	async check(name, fn) {
		const t = Date.now();
		if (this.aborted) {
			this.skip(name, `not run: ${this.aborted}`);
			return undefined;
		}
		try {
			const summary = await fn();
			const item = { name, status: 'PASS', ms: Date.now() - t, summary: typeof summary === 'string' ? summary : '' };
			this.items.push(item);
			log(`PASS  ${name}  (${fmtSecs(item.ms)})${item.summary ? '  ' + item.summary : ''}`);
			return summary;
		} catch (e) {
			if (this.aborted) {
				this.skip(name, `cut short: ${this.aborted}`);
				return undefined;
			}
			const item = { name, status: 'FAIL', ms: Date.now() - t, summary: e.message };
			this.items.push(item);
			log(`FAIL  ${name}  (${fmtSecs(item.ms)})\n${indent(e.stack && !e.message.includes('\n') ? e.stack : e.message)}`);
			return undefined;
		}
	}

	/** After this, checks are recorded as SKIP (the run is being torn down). */
	abort(reason) {
		if (!this.aborted) this.aborted = reason;
	}

	fail(name, message) {
		this.items.push({ name, status: 'FAIL', ms: 0, summary: message });
		log(`FAIL  ${name}\n${indent(message)}`);
	}

	skip(name, why) {
		this.items.push({ name, status: 'SKIP', ms: 0, summary: why });
		log(`SKIP  ${name}  ${why}`);
	}

	printSummary() {
		const skipped = this.items.filter((i) => i.status === 'SKIP').length;
		process.stdout.write('\n==== e2e summary ====\n');
		for (const i of this.items) {
			process.stdout.write(`${i.status.padEnd(4)}  ${i.name}${i.status === 'PASS' && i.summary ? '  — ' + i.summary : ''}${i.status !== 'PASS' ? '  — ' + i.summary.split('\n')[0] : ''}\n`);
		}
		process.stdout.write(`${this.passed} passed, ${this.failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
	}
}

function indent(s) {
	return String(s)
		.split('\n')
		.map((l) => '      ' + l)
		.join('\n');
}
