/**
 * `node --import tsx test/helpers/secret-scan-cli.ts <folder>`: scans what a test run recorded (see
 * secret-scan.ts), prints the counts and every hit (masked), and exits 1 if there is any.
 */
import { scanFolder } from './secret-scan.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: secret-scan-cli <folder>\n');
  process.exit(2);
}
const report = scanFolder(dir);
const summary =
  `secret scan: ${report.histories} workflow histories, ${report.logLines} worker log lines in ` +
  `${report.logFiles} files: ${report.hits.length} hits`;
process.stderr.write(`\n${summary}\n`);
for (const hit of report.hits) process.stderr.write(`  ${hit.kind} in ${hit.source}:${hit.line}: ${hit.masked}\n`);
for (const problem of report.unread) process.stderr.write(`  not scanned: ${problem}\n`);
process.exit(report.hits.length > 0 ? 1 : 0);
