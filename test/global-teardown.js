// Runs once after all test files: scans every workflow history and worker log the run recorded for secret
// material (test/helpers/secret-scan.ts) and fails the run on any hit. A clean scan's folder is removed; a
// failing one is kept for whoever reads the report.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export default function globalTeardown() {
  const dir = process.env.VUP_SECRET_SCAN_DIR;
  if (!dir) return;
  const scan = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/secret-scan-cli.ts', dir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (scan.status !== 0) throw new Error(`the secret scan found secret material (or failed); see above and ${dir}`);
  if (!process.env.VUP_KEEP_SECRET_SCAN) rmSync(dir, { recursive: true, force: true });
}
