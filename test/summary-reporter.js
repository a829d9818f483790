// Prints one plain closing line ("tests: N passed, N failed, N skipped") after jest's own summary, the form
// CI tooling reads from any runner. stderr, like jest's summary, so the two stay in order.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const skipped = numPendingTests + numTodoTests;
    process.stderr.write(`\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${skipped} skipped\n`);
  }
}
