// Prints one plain closing line ("tests: N passed, N failed, N skipped"), the form CI tooling reads from any
// runner. Jest prints its own summary after every reporter has run, so the line is written at exit.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const skipped = numPendingTests + numTodoTests;
    const line = `\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
