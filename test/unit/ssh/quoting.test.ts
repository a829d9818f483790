/**
 * Arguments reach the remote program literally, whatever shell syntax they contain: checked on a real sshd
 * (through the login shell of the test user) and, for the quoting alone, through dash and bash locally.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { execCapture } from '../../../src/ssh/exec.js';
import { commandLine } from '../../../src/ssh/quote.js';
import { HostError } from '../../../src/ssh/errors.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';

let host: SshHost;
let pool: SshConnectionPool;
let canary: string;

beforeAll(async () => {
  host = await startSshHost({ name: 'quoting' });
  pool = new SshConnectionPool();
  canary = path.join(host.rootDir, 'canary');
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

function hostileArguments(): string[] {
  return [
    'two words',
    "single ' quote",
    'double " quote',
    "'",
    "'\\''",
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `; touch ${canary}`,
    `&& touch ${canary}`,
    `| touch ${canary}`,
    `> ${canary}`,
    '*',
    '/*',
    '~',
    '$HOME',
    '${PATH}',
    '!!',
    'line one\nline two',
    '\n',
    'tab\there',
    '-n',
    '--help',
    '-',
    '',
    '',
    'back\\slash\\',
    '#not a comment',
    '%s %d',
    'unicode: žluťoučký kůň, 東京, 🚀',
  ];
}

function splitNul(output: Buffer): string[] {
  const text = output.toString('utf8');
  expect(text.endsWith('\0')).toBe(true);
  return text.slice(0, -1).split('\0');
}

describe('remote command quoting', () => {
  it('passes every argument literally through the remote login shell', async () => {
    const args = hostileArguments();
    const connection = await pool.get(host.spec);
    const result = await execCapture(connection, ['printf', '%s\\0', ...args]);
    expect(result.exitCode).toBe(0);
    expect(splitNul(result.stdout)).toEqual(args);
    expect(existsSync(canary)).toBe(false);
  });

  it('treats a program name holding shell syntax as one literal name', async () => {
    const connection = await pool.get(host.spec);
    const result = await execCapture(connection, [`printf %s; touch ${canary}`]);
    expect(result.exitCode).toBe(127);
    expect(existsSync(canary)).toBe(false);
  });

  it.each(['dash', 'bash'])('quotes correctly for %s', (shell) => {
    const args = hostileArguments();
    const output = execFileSync(shell, ['-c', commandLine(['printf', '%s\\0', ...args])]);
    expect(splitNul(output)).toEqual(args);
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses a NUL byte instead of truncating the argument', () => {
    expect(() => commandLine(['printf', 'a\0b'])).toThrow(HostError);
    expect(() => commandLine([])).toThrow(/program name/);
  });
});
