/**
 * The sshd harness must work for developers who run the tests as an ordinary user: sshd without root has
 * no privilege separation and can only log in as the user that started it. As root (CI), this runs the
 * harness as an unprivileged account; as any other user, every test of the suite already does.
 */
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TEST_USER = 'vup-tester';

async function ensureUnprivilegedUser(): Promise<void> {
  const exists = await run('id', ['-u', TEST_USER]).then(
    () => true,
    () => false,
  );
  if (!exists) await run('useradd', ['--no-create-home', '--shell', '/bin/sh', TEST_USER]);
}

it('starts hosts and logs in as the unprivileged user running the tests', async () => {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await ensureUnprivilegedUser();
  const argv = [process.execPath, '--import', 'tsx', 'test/helpers/ssh-self-check.ts'];
  const { stdout } = asRoot
    ? await run('runuser', ['-u', TEST_USER, '--', ...argv], { env: { ...process.env, HOME: '/tmp' } })
    : await run(argv[0]!, argv.slice(1));
  const expected = asRoot ? TEST_USER : userInfo().username;
  expect(JSON.parse(stdout)).toEqual({ remoteUser: expected, specUser: expected });
});
