/**
 * Ends every jest run with one plain line, "jest: N passed, N failed[, N skipped]", so CI (and
 * people skimming logs) read the outcome without parsing jest's own summary block.
 */
class SummaryReporter {
	onRunComplete(_contexts, results) {
		const skipped = results.numPendingTests + results.numTodoTests;
		const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
		const failed = results.numFailedTests + (results.numFailedTests === 0 ? failedSuites : 0);
		process.stdout.write(
			`\njest: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
		);
	}
}
module.exports = SummaryReporter;
