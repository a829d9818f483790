// Runs once before all test files: finds or builds real Temporal servers (devnet/servers/temporal-servers.ts)
// and hands their paths to the test files through the environment, which jest's workers inherit; and makes
// the folder the run's secret scan collects histories and worker logs in (test/helpers/secret-scan.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function globalSetup() {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'devnet/servers/temporal-servers-cli.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  Object.assign(process.env, JSON.parse(out.trim().split('\n').pop() ?? '{}'));
  process.env.VUP_SECRET_SCAN_DIR ||= mkdtempSync(path.join(tmpdir(), 'vup-secret-scan-'));
}
