/**
 * Payload encryption end to end, against the dev server and its own Temporal UI: a real strategy runs on the
 * worker process (worker/main.ts) with the codec of a key file (VUP_CODEC_KEYS), started by an SDK client with
 * the same codec. Then:
 *   - the history as the server stores it, read WITHOUT the codec, holds ciphertext only: every payload is
 *     `binary/encrypted` and none holds the input's or the activities' values (search attributes excepted:
 *     they are plain by design, so the server can index them);
 *   - the client with the codec reads the status and the decoded history; one without it cannot;
 *   - `vup codec-server` (a child process, token from a file) decodes with the token, refuses without it
 *     (401) or with another (403), and answers the UI origin's CORS preflight;
 *   - `temporal workflow show --codec-endpoint --codec-auth` shows the decoded input through it;
 *   - the Temporal UI in Chromium shows the decoded input through it (https: the UI passes its access token
 *     only to an https endpoint), and without the codec server shows none of it.
 * The validator runs against a closed local port, so the run stays at its first look (retried) while it is read.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { freePort } from '../../devnet/ports.js';
import { ENCRYPTED_ENCODING, codecDataConverter, payloadCodecFromEnv } from '../../src/codec/index.js';
import { fetchUpgradeHistory, getStatus, startUpgrade, type StrategyInput } from '../../src/client/index.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { launchChromium } from '../helpers/chromium.js';
import { eventually } from '../helpers/eventually.js';
import { createDevServerEnv } from '../helpers/temporal.js';

const run = promisify(execFile);
const TASK_QUEUE = 'e2e-payload-encryption';
const UI_TIMEOUT_MS = 60_000;

let env: TestWorkflowEnvironment | undefined;
let dir: string;
let keysFile: string;
let tokenFile: string;
const token = randomBytes(24).toString('hex');
const keys = { old: randomBytes(32).toString('base64'), current: randomBytes(32).toString('base64') };
let uiUrl: string;
let worker: ChildProcess | undefined;
let workerOutput = '';
let workerExited: Promise<number | null> | undefined;
let codecClient: Client;
let input: StrategyInput<'nearStopAndRestartUpgrade'>;
let workflowId: string;
let runId: string;
/** Values of the input and of the first activity's answer that only payloads carry. */
let plaintexts: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vup-payload-encryption-'));
  keysFile = path.join(dir, 'codec-keys.yaml');
  await writeFile(keysFile, `current: k2\nkeys:\n  k1: ${keys.old}\n  k2: ${keys.current}\n`, { mode: 0o600 });
  tokenFile = path.join(dir, 'codec-token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  env = await createDevServerEnv([], { uiPort });

  // The example inventory with mypool's node, host and RPC on a closed local port (nothing remote is reached).
  const closed = await freePort();
  const inventory = structuredClone(await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml')));
  const pool = inventory.validators.find((v) => v.id === 'mypool')!;
  const node = inventory.nodes.find((n) => n.id === pool.nodes.primary)!;
  Object.assign(
    inventory.hosts.find((h) => h.id === node.host)!,
    { address: '127.0.0.1', port: closed },
  );
  node.rpc = pool.networkRpc = `http://127.0.0.1:${closed}`;

  const inventoryFile = path.join(dir, 'inventory.json');
  await writeFile(inventoryFile, JSON.stringify(inventory));
  // The worker process as operators run it, the codec turned on by VUP_CODEC_KEYS.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  worker = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--task-queue', TASK_QUEUE], {
    cwd: repoRoot(),
    env: {
      ...clean,
      TEMPORAL_ADDRESS: env.address,
      VUP_INVENTORY: inventoryFile,
      VUP_CODEC_KEYS: keysFile,
      VUP_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d: Buffer) => (workerOutput += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (workerOutput += d.toString()));
  workerExited = new Promise((resolve) => worker!.on('exit', (code) => resolve(code)));
  await eventually('the worker to poll', () => (workerOutput.includes('worker polling') ? true : undefined), 120_000);
  expect(workerOutput).toContain(`worker: payloads encrypted (keys from ${keysFile})`);
  const dataConverter = codecDataConverter(await payloadCodecFromEnv({ VUP_CODEC_KEYS: keysFile }));
  codecClient = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter });
  input = JSON.parse(
    await readFile(path.join(repoRoot(), 'examples', 'near-stop-and-restart.input.json'), 'utf8'),
  ) as StrategyInput<'nearStopAndRestartUpgrade'>;
  plaintexts = [input.validator.accountId, input.release.sha256, input.release.staged, 'mypool-owner.near'];
  ({ workflowId, runId } = await startUpgrade(codecClient, 'nearStopAndRestartUpgrade', input, {
    taskQueue: TASK_QUEUE,
  }));
  // The first activity (resolving the validator in the inventory) has answered.
  await eventually('the first activity to complete', async () => {
    const history = await env!.client.workflow.getHandle(workflowId).fetchHistory();
    return history.events?.some((e) => e.activityTaskCompletedEventAttributes) ? true : undefined;
  });
}, 300_000);

afterAll(async () => {
  await codecClient?.workflow
    .getHandle(workflowId)
    .terminate('the encryption test is done')
    .catch(() => undefined);
  worker?.kill('SIGTERM');
  expect(await workerExited).toBe(0);
  for (const secret of [keys.old, keys.current, ...plaintexts.slice(1)]) expect(workerOutput).not.toContain(secret);
  await env?.teardown();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

/** Every payload in a history, with its path; search attributes are skipped (the server indexes them). */
function payloadsIn(node: unknown, at = ''): { at: string; payload: Payload }[] {
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return [];
  if (Array.isArray(node)) return node.flatMap((item, i) => payloadsIn(item, `${at}[${i}]`));
  if ('metadata' in node && 'data' in node && (node as Payload).data instanceof Uint8Array)
    return [{ at, payload: node as Payload }];
  return Object.entries(node).flatMap(([k, v]) => (k === 'searchAttributes' ? [] : payloadsIn(v, `${at}.${k}`)));
}

const bytes = (p: Payload) =>
  Buffer.concat([Buffer.from(p.data ?? []), ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v))]).toString(
    'latin1',
  );
/** A payload in proto3 JSON, as the codec-server protocol and `temporal … --output json` write it. */
interface SerializedPayload {
  metadata: Record<string, string>;
  data: string;
}
const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? []).toString();

function startCodecServer(port: number, extraArgs: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot(), 'src', 'cli', 'main.ts'),
      'codec-server',
      '--listen',
      `127.0.0.1:${port}`,
      '--ui-origin',
      uiUrl,
      ...extraArgs,
    ],
    {
      cwd: repoRoot(),
      env: { ...process.env, VUP_CODEC_KEYS: keysFile, VUP_CODEC_TOKEN_FILE: tokenFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = eventually('the codec server to listen', () =>
    output.includes('codec server on') ? true : undefined,
  );
  return { child, exited, listening, output: () => output };
}

const startedInput = async (client: Client) => {
  const history = await fetchUpgradeHistory(client, workflowId);
  return history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
};

describe('the history on the server', () => {
  it('holds ciphertext only: every payload encrypted, none with a value of the input or of an activity', async () => {
    const history = await env!.client.workflow.getHandle(workflowId).fetchHistory();
    const found = payloadsIn(history);
    const at = (where: string) => found.filter((f) => f.at.includes(where));
    // The input, the summary, the activity's input and its answer are all there...
    expect(at('workflowExecutionStartedEventAttributes.input').length).toBe(1);
    expect(at('userMetadata.summary').length).toBeGreaterThan(0);
    expect(at('activityTaskScheduledEventAttributes.input').length).toBeGreaterThan(0);
    expect(at('activityTaskCompletedEventAttributes.result').length).toBeGreaterThan(0);
    // ...encrypted, under the current key. The SDK writes a patch() marker's id (a name in our code, such as
    // "inventory-targets") plainly; it holds no data of the run.
    const plain = found.filter((f) => encodingOf(f.payload) !== ENCRYPTED_ENCODING);
    expect(plain.filter((f) => !f.at.includes('markerRecordedEventAttributes.details.patch-data'))).toEqual([]);
    const encrypted = found.filter((f) => !plain.includes(f));
    expect(new Set(encrypted.map((f) => Buffer.from(f.payload.metadata!['encryption-key-id']!).toString()))).toEqual(
      new Set(['k2']),
    );
    for (const text of plaintexts) expect(found.filter((f) => bytes(f.payload).includes(text))).toEqual([]);
    console.log(
      `payload-encryption: ${found.length} payloads in the stored history: ${encrypted.length} encrypted, ` +
        `${plain.length} patch marker ids; 0 with a plaintext value`,
    );
  });

  it('the client with the codec reads it; one without cannot', async () => {
    const decoded = defaultPayloadConverter.fromPayload(await startedInput(codecClient));
    expect(decoded).toEqual(input);
    expect((await getStatus(codecClient, workflowId)).state).toBe('running');
    await expect(getStatus(env!.client, workflowId)).rejects.toThrow(/binary\/encrypted/);
  });
});

describe('the vup CLI', () => {
  const vup = (args: string[], extraEnv: Record<string, string>) =>
    run(process.execPath, ['--import', 'tsx', path.join(repoRoot(), 'src', 'cli', 'main.ts'), ...args], {
      cwd: repoRoot(),
      env: { ...process.env, TEMPORAL_ADDRESS: env!.address, ...extraEnv },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it('reads the encrypted run with VUP_CODEC_KEYS, and says what is missing without it', async () => {
    const status = await vup(['status', workflowId, '--json'], { VUP_CODEC_KEYS: keysFile });
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { state: string }).state).toBe('running');
    const history = await vup(['history', workflowId], { VUP_CODEC_KEYS: keysFile });
    expect(history.stdout).toContain('resolve the validator');
    const without = await vup(['status', workflowId], {});
    expect(without.code).toBe(1);
    expect(without.stderr.trim()).toBe(
      "vup: the run's payloads are encrypted: set VUP_CODEC_KEYS to the payload keys file",
    );
  }, 60_000);
});

describe('vup codec-server', () => {
  let server: ReturnType<typeof startCodecServer>;
  let url: string;
  let encrypted: Payload;
  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const post = (route: string, headers: Record<string, string>, body: unknown = { payloads: [asJson(encrypted)] }) =>
    fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = startCodecServer(port);
    await server.listening;
    encrypted = await startedInput(env!.client);
  }, 60_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // Neither the token nor a key, nor a decoded value, reaches its output.
    for (const secret of [token, keys.old, keys.current, ...plaintexts]) expect(server.output()).not.toContain(secret);
  });

  it('decodes with the token, also under a namespace prefix as the temporal CLI calls it', async () => {
    for (const route of ['/decode', '/default/decode']) {
      const answer = await post(route, { Authorization: `Bearer ${token}` });
      expect(answer.status).toBe(200);
      const { payloads } = (await answer.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual(input);
    }
  });

  it('encodes under the current key, and what it encodes decodes', async () => {
    const plain = asJson(defaultPayloadConverter.toPayload({ hello: 'codec' }));
    const encoded = (await (
      await post('/encode', { Authorization: `Bearer ${token}` }, { payloads: [plain] })
    ).json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(Buffer.from(encoded.payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k2');
    const decoded = (await (await post('/decode', { Authorization: `Bearer ${token}` }, encoded)).json()) as {
      payloads: unknown[];
    };
    expect(decoded.payloads).toEqual([plain]);
  });

  it('refuses without the token (401) and with another token (403), decoding nothing', async () => {
    const without = await post('/decode', {});
    expect(without.status).toBe(401);
    expect(await without.text()).toBe('no Authorization header: send "Authorization: Bearer <token>"\n');
    const wrong = await post('/decode', { Authorization: `Bearer ${randomBytes(24).toString('hex')}` });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain(input.validator.accountId);
    expect((await post('/encode', { Authorization: 'Basic abc' })).status).toBe(403);
  });

  it("answers the UI origin's CORS preflight, and no other origin's", async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
    const ui = await preflight(uiUrl);
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-origin')).toBe(uiUrl);
    expect(ui.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = ui.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-namespace']));
    const other = await preflight('http://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // The answer to the POST itself carries the origin too, so the page may read it.
    const answer = await post('/decode', { Authorization: `Bearer ${token}`, Origin: uiUrl });
    expect(answer.headers.get('access-control-allow-origin')).toBe(uiUrl);
  });

  it('`temporal workflow show --codec-endpoint --codec-auth` shows the decoded input through it', async () => {
    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const show = (extra: string[]) =>
      run(cli, [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--address',
        env!.address,
        '--output',
        'json',
        ...extra,
      ]);
    const startedPayload = (stdout: string) => {
      const shown = JSON.parse(stdout) as {
        events: { workflowExecutionStartedEventAttributes?: { input: { payloads: SerializedPayload[] } } }[];
      };
      return shown.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
    };
    const plain = (await show([])).stdout;
    expect(Buffer.from(startedPayload(plain).metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    // The account id is in the workflow id and the search attributes, by design; the rest only in payloads.
    for (const text of plaintexts.slice(1)) expect(plain).not.toContain(text);
    const decoded = startedPayload(
      (await show(['--codec-endpoint', `${url}/{namespace}`, '--codec-auth', `Bearer ${token}`])).stdout,
    );
    expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toEqual(input);
  });
});

describe('the Temporal UI', () => {
  let browser: Browser | undefined;
  let server: ReturnType<typeof startCodecServer>;
  let codecUrl: string;

  beforeAll(async () => {
    browser = await launchChromium();
    await mkdir(path.join(repoRoot(), 'test-output', 'ui'), { recursive: true });
    // A self-signed certificate for 127.0.0.1: the UI passes a bearer token to https endpoints only.
    const cert = path.join(dir, 'codec-cert.pem');
    const key = path.join(dir, 'codec-key.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const port = await freePort();
    codecUrl = `https://127.0.0.1:${port}`;
    server = startCodecServer(port, ['--tls-cert', cert, '--tls-key', key]);
    await server.listening;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  /** The run's page; with `codec`, the browser's Codec Server settings name the codec server and the token. */
  async function inputShown(codec: boolean, screenshot: string): Promise<string> {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1600, height: 1400 } });
    if (codec)
      // What the UI's Codec Server settings store in the browser, and the hook through which it gets the access
      // token it passes (a UI without sign-in has none of its own).
      await context.addInitScript({
        content: [
          `localStorage.setItem('endpoint', ${JSON.stringify(JSON.stringify(codecUrl))});`,
          `localStorage.setItem('passAccessToken', 'true');`,
          `localStorage.setItem('overrideRemoteCodecConfiguration', 'true');`,
          `globalThis.AccessToken = () => Promise.resolve(${JSON.stringify(token)});`,
        ].join('\n'),
      });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}/${runId}/history`);
    const text = await eventually(
      'the run page to show its input',
      async () => {
        const body = await page.locator('body').innerText();
        const shown = codec ? input.release.sha256 : Buffer.from(ENCRYPTED_ENCODING).toString('base64');
        return body.includes(shown) ? body : undefined;
      },
      UI_TIMEOUT_MS,
    );
    await page.screenshot({ path: path.join(repoRoot(), 'test-output', 'ui', `${screenshot}.png`) });
    await context.close();
    return text;
  }

  it('shows the decoded input through the codec server, and none of it without', async () => {
    const decoded = await inputShown(true, 'codec-decoded');
    for (const text of plaintexts.slice(1, 3)) expect(decoded).toContain(text);
    const plain = await inputShown(false, 'codec-encrypted');
    for (const text of plaintexts.slice(1, 3)) expect(plain).not.toContain(text);
  }, 180_000);
});
