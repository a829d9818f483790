/**
 * Starts one test host with the sshd harness, logs in through src/ssh and prints who the remote side runs
 * as. test/unit/ssh/non-root.test.ts runs this as an unprivileged user.
 */
import { connectSsh } from '../../src/ssh/connection.js';
import { execChecked } from '../../src/ssh/exec.js';
import { startSshHost } from '../../devnet/hosts/sshd.js';

const host = await startSshHost({ name: 'self-check' });
try {
  const connection = await connectSsh(host.spec);
  try {
    const { stdout } = await execChecked(connection, ['id', '-un']);
    process.stdout.write(JSON.stringify({ remoteUser: stdout.toString().trim(), specUser: host.spec.user }) + '\n');
  } finally {
    connection.close();
  }
} finally {
  await host.stop();
}
