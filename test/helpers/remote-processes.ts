/**
 * Looks at processes on a test host through its own sshd, so a test checks the remote side itself.
 */
import type { SshConnectionProvider } from '../../src/ssh/connection.js';
import type { HostSpec } from '../../src/config/host.js';
import { execCapture } from '../../src/ssh/exec.js';

/** The pids (of those given) that still run on the host; zombies count as gone. */
export async function runningPids(connections: SshConnectionProvider, host: HostSpec, pids: number[]) {
  const script = `for p; do
  if [ -r "/proc/$p/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then echo "$p"; fi
done`;
  const result = await execCapture(await connections.get(host), ['sh', '-c', script, 'check', ...pids.map(String)]);
  return result.stdout.toString().split('\n').filter(Boolean).map(Number);
}
