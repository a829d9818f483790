// Runs once before all test files: finds or builds real Temporal servers (devnet/servers/temporal-servers.ts)
// and hands their paths to the test files through the environment, which jest's workers inherit.
import { execFileSync } from 'node:child_process';

export default function globalSetup() {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'devnet/servers/temporal-servers-cli.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  Object.assign(process.env, JSON.parse(out.trim().split('\n').pop() ?? '{}'));
}
