/**
 * The secret scan of a test run: every workflow history the run's Temporal servers hold when a test file
 * tears them down, and every worker log line (in-process workers through the test runtime's logger, worker
 * processes through their output), are written to one folder (VUP_SECRET_SCAN_DIR, made by
 * test/global-setup.js), and test/global-teardown.js scans that folder when the run ends: a hit fails the run.
 *
 * What counts as secret material: NEAR ed25519 secret keys (`ed25519:` and the base58 of 64 bytes), the
 * `secret_key`/`private_key` fields of key files, PEM and OpenSSH private keys, BIP39 mnemonics (checked
 * against the word list's checksum, so prose does not match), and the literal secrets the fixtures use
 * (passwords, seeds). `//Alice`-style development URIs are public and not counted.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { mnemonicValidate } from '@polkadot/util-crypto';

export const SCAN_DIR_VAR = 'VUP_SECRET_SCAN_DIR';

/** test/workflows/notify.test.ts: the bearer token of a webhook, which the worker reads from its environment. */
export const WEBHOOK_TEST_TOKEN = 'whk-7f3c9a1e5b2d4086-not-in-history';

/** Secrets written literally in the fixtures (signer tests, keystores); runtime-made ones match the patterns. */
export const FIXTURE_SECRETS: readonly string[] = [
  // test/unit/polkadot/substrate-signer.test.ts: the keystore's password.
  'correct horse battery staple',
  WEBHOOK_TEST_TOKEN,
];

export interface SecretHit {
  /** Which kind of secret matched. */
  kind: string;
  /** The file (history or log) it is in, relative to the scan folder. */
  source: string;
  /** Its line number in that file. */
  line: number;
  /** The matched text with all but its first characters masked, so the report does not leak it again. */
  masked: string;
}

const BASE58 = '[1-9A-HJ-NP-Za-km-z]';

/** Patterns of secret material; each matched text may be checked further (`confirm`). */
const PATTERNS: { kind: string; pattern: RegExp; confirm?: (text: string) => boolean }[] = [
  // 64 bytes in base58 are 86 to 88 characters; a public key (32 bytes) is at most 44.
  { kind: 'NEAR ed25519 secret key', pattern: new RegExp(`ed25519:${BASE58}{80,90}(?!${BASE58})`, 'g') },
  // Also inside a JSON string (a payload's text in a history is escaped once more).
  {
    kind: 'key file secret field',
    pattern: /\\?"(?:secret_key|private_key|secretKey|privateKey)\\?"\s*:\s*\\?"[^"\\]{8,}/g,
  },
  { kind: 'PEM or OpenSSH private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/g },
  {
    kind: 'BIP39 mnemonic',
    pattern: /(?<![a-z])(?:[a-z]{3,8} ){11,}[a-z]{3,8}(?![a-z])/g,
    confirm: (text) => containsMnemonic(text.split(' ')),
  },
];

/** Whether some 12, 15, 18, 21 or 24 consecutive words of `words` are a valid BIP39 mnemonic. */
function containsMnemonic(words: string[]): boolean {
  for (const length of [24, 21, 18, 15, 12])
    for (let start = 0; start + length <= words.length; start++)
      if (mnemonicValidate(words.slice(start, start + length).join(' '))) return true;
  return false;
}

const mask = (text: string) => `${text.slice(0, 10)}…(${text.length} chars)`;

/** The secret material in `text` (a history's JSON or a log), one hit per match. */
export function findSecrets(text: string, source: string, literals: readonly string[] = FIXTURE_SECRETS): SecretHit[] {
  const hits: SecretHit[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const { kind, pattern, confirm } of PATTERNS)
    for (const m of text.matchAll(pattern))
      if (!confirm || confirm(m[0])) hits.push({ kind, source, line: lineOf(m.index), masked: mask(m[0]) });
  for (const secret of literals) {
    if (secret.length < 8 || secret.startsWith('//')) continue;
    for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1))
      hits.push({ kind: 'fixture secret', source, line: lineOf(i), masked: mask(secret) });
  }
  return hits;
}

export interface ScanReport {
  histories: number;
  logFiles: number;
  logLines: number;
  hits: SecretHit[];
  /** Histories that could not be listed or read (a server gone before its teardown), for the report. */
  unread: string[];
}

/** Scans everything a run wrote to the scan folder. */
export function scanFolder(dir: string): ScanReport {
  const report: ScanReport = { histories: 0, logFiles: 0, logLines: 0, hits: [], unread: [] };
  const literals = [...FIXTURE_SECRETS, ...readLines(path.join(dir, 'secrets.txt'))];
  for (const kind of ['histories', 'logs'] as const) {
    const folder = path.join(dir, kind);
    for (const name of listFiles(folder)) {
      const text = readFileSync(path.join(folder, name), 'utf8');
      if (kind === 'histories') report.histories++;
      else {
        report.logFiles++;
        report.logLines += text.split('\n').filter(Boolean).length;
      }
      report.hits.push(...findSecrets(text, `${kind}/${name}`, literals));
    }
  }
  report.unread = readLines(path.join(dir, 'unread.txt'));
  return report;
}

function listFiles(folder: string): string[] {
  try {
    return readdirSync(folder).sort();
  } catch {
    return [];
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The scan folder of this run, or undefined when the run does not scan (a test started outside jest's setup). */
function scanDir(): string | undefined {
  return process.env[SCAN_DIR_VAR] || undefined;
}

function subfolder(name: string): string | undefined {
  const dir = scanDir();
  if (!dir) return undefined;
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** The test file running now (jest's), for file names. */
function testName(): string {
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.()
    .testPath;
  return testPath ? path.basename(testPath).replace(/\.test\.ts$/, '') : 'run';
}

let files = 0;
const fileName = (prefix: string) => `${testName()}-${process.pid}-${prefix}-${++files}`;

/** A file the caller appends log output to (a worker process's), or undefined when the run does not scan. */
export function workerLogFile(name: string): string | undefined {
  const folder = subfolder('logs');
  return folder ? path.join(folder, `${fileName(name)}.log`) : undefined;
}

let runtimeLog: string | undefined;
/** Appends one log entry of the in-process workers (the test runtime's logger) to this file's log. */
export function recordLogLine(line: string): void {
  runtimeLog ??= workerLogFile('runtime');
  if (runtimeLog) appendFileSync(runtimeLog, line.endsWith('\n') ? line : `${line}\n`);
}

/** Payload bytes as the text they hold (JSON), so the scan reads what was stored, not its base64. */
function readable(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'bigint') return value.toString();
  // Longs (event ids, times) print as numbers.
  if (value && typeof value === 'object' && 'low' in value && 'high' in value && 'unsigned' in value)
    return (value as { toString(): string }).toString();
  return value;
}

/**
 * Writes the history of every workflow run the server holds to the scan folder; called before a test
 * server shuts down. Returns how many were written.
 */
export async function recordHistories(client: Client, server: string): Promise<number> {
  const folder = subfolder('histories');
  if (!folder) return 0;
  let written = 0;
  try {
    for await (const run of runsOf(client)) {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      writeFileSync(path.join(folder, `${fileName(server)}.json`), JSON.stringify(history, readable, 1));
      written++;
    }
  } catch (err) {
    appendFileSync(
      path.join(scanDir()!, 'unread.txt'),
      `${testName()} (${server}): ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
  return written;
}

/** Every run the server holds; the time-skipping server has no visibility list, only the open and closed lists. */
async function* runsOf(client: Client): AsyncGenerator<{ workflowId: string; runId: string }> {
  try {
    const runs: { workflowId: string; runId: string }[] = [];
    for await (const run of client.workflow.list()) runs.push(run);
    yield* runs;
    return;
  } catch {
    // the Java test server: UNIMPLEMENTED
  }
  const namespace = client.options.namespace;
  const service = client.workflowService;
  const lists = [
    (nextPageToken?: Uint8Array) =>
      service.listOpenWorkflowExecutions({ namespace, maximumPageSize: 1000, nextPageToken }),
    (nextPageToken?: Uint8Array) =>
      service.listClosedWorkflowExecutions({ namespace, maximumPageSize: 1000, nextPageToken }),
  ];
  for (const list of lists) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await list(nextPageToken);
      for (const e of page.executions ?? [])
        if (e.execution?.workflowId && e.execution.runId)
          yield { workflowId: e.execution.workflowId, runId: e.execution.runId };
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
}
