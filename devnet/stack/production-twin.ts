/**
 * The production twin: the services docker-compose.yml deploys, as processes on this machine, from the same
 * configuration files under deploy/, on loopback only:
 *
 *   postgresql          Debian's PostgreSQL in a private cluster (initdb in a temp folder, its own port;
 *                       as the `postgres` user when we are root)
 *   temporal-server     go.temporal.io/server built from the Go module proxy (npm run servers), on
 *                       deploy/temporal/config.yaml and dynamicconfig.yaml; schema by deploy/temporal/setup-schema.sh
 *                       with the module's temporal-sql-tool; mutual TLS on the frontend with certificates
 *                       made by deploy/tls/make-certs.sh (openssl)
 *   (namespace step)    deploy/temporal/create-namespace.sh with the temporal CLI, through the twin's
 *                       temporal.toml profile: the namespace and the project's search attributes
 *   worker-1, worker-2  node dist/worker/main.js (the code the image runs), connected through the profile,
 *                       on the twin's inventory file (VUP_INVENTORY): empty at start, as an operator's first
 *                       install; setInventory() writes it and SIGHUPs the workers, as an operator adds a validator
 *   prometheus          Debian's prometheus on deploy/prometheus/prometheus.yml, scraping the server and
 *                       the workers
 *
 *   const twin = await startProductionTwin({ workers: 2 });
 *   const client = await twin.client();        // connects through the profile, as the workers do
 *   await twin.workers[0].kill();              // SIGKILL a worker; twin.startWorker() adds one
 *   await twin.restartServer({ kill: true });  // SIGKILL the server and start it again on the same database
 *   await twin.setInventory(scenario.inventory); // write VUP_INVENTORY, SIGHUP every worker, wait for "reloaded"
 *   await twin.stop();                         // everything, newest first, and the temp folder
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_TASK_QUEUE } from '../../src/api/identity.js';
import type { Inventory, InventoryInput } from '../../src/config/inventory.js';
import { validateInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { freePort, portIsFree } from '../ports.js';
import { teardownStack } from '../teardown.js';
import { resolveTemporalCli, resolveTemporalServer } from '../servers/temporal-servers.js';
import { findJemalloc } from '../../worker/allocator.js';
import { startProcess, type ManagedProcess } from './processes.js';

const run = promisify(execFile);

export const TWIN_NAMESPACE = 'validator-upgrades';
export const TWIN_PROFILE = 'stack';

/** The inventory the twin's workers start on: valid, and holding nothing to upgrade yet. */
export const EMPTY_INVENTORY: InventoryInput = { version: 1, hosts: [], nodes: [], validators: [], signers: [] };

/** How long a worker may take to say it reloaded its inventory after a SIGHUP. */
const RELOAD_TIMEOUT_MS = 30_000;

export interface ProductionTwinOptions {
  /** Worker processes to start (default 2). */
  workers?: number;
  taskQueue?: string;
  /** Run `npm run build` first (default: only when dist/worker/main.js or dist/workflow-bundle.js is missing). */
  build?: boolean;
  /** The inventory the workers start on (default EMPTY_INVENTORY). */
  inventory?: Inventory | InventoryInput;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * What one worker said after a SIGHUP: `inventory <path> reloaded: ...`, or `... NOT reloaded ...` with the
 * file's problems on the lines after it.
 */
export interface InventoryReload {
  worker: TwinWorker;
  reloaded: boolean;
  line: string;
}

export interface ProductionTwin {
  /** The temporal.toml the workers and the CLI connect through, and its profile. */
  configFile: string;
  profile: string;
  address: string;
  namespace: string;
  taskQueue: string;
  postgres: { host: string; port: number; user: string };
  prometheusUrl: string;
  serverMetricsUrl: string;
  /** The running worker processes (a killed one stays in the list, not running). */
  workers: TwinWorker[];
  /** The workers' inventory file (VUP_INVENTORY), YAML; the only source of the hosts and signers they touch. */
  inventoryFile: string;
  /**
   * Writes the inventory file (validated first; replaced in one rename), SIGHUPs every running worker (one
   * still starting once it polls: it may have read the file before) and resolves once each has logged that
   * it reloaded; rejects naming a worker that kept its previous inventory.
   */
  setInventory(inventory: Inventory | InventoryInput): Promise<InventoryReload[]>;
  /** SIGHUPs every running worker and collects what each said (the file as it is, e.g. edited by hand). */
  reloadInventory(): Promise<InventoryReload[]>;
  /** The environment that points a client (temporal CLI, vup, a worker) at the twin. */
  clientEnv: Record<string, string>;
  server(): ManagedProcess;
  /** Every process the twin started (PostgreSQL, the server, Prometheus, the workers), for checks. */
  processes(): ManagedProcess[];
  /** The twin's temp folder (PostgreSQL's data, TLS, the profile, Prometheus's data); removed by stop(). */
  workDir: string;
  /** Prometheus's HTTP API: the result of an instant query. */
  queryPrometheus(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Starts one more worker process (by default like the first ones: unversioned, on the twin's task queue). */
  startWorker(options?: TwinWorkerOptions): Promise<TwinWorker>;
  /** Stops the server (SIGKILL with kill: true, else SIGTERM) and starts it again on the same database. */
  restartServer(opts?: { kill?: boolean; downMs?: number }): Promise<void>;
  /** A client connected through the profile (closed by stop()). */
  client(): Promise<Client>;
  stop(): Promise<void>;
}

export interface TwinWorker extends ManagedProcess {
  /** Resolves once the worker polls (its SIGHUP handler is installed by then); rejects if it exits first. */
  ready: Promise<void>;
  /** Where it serves Prometheus metrics (VUP_METRICS_ADDRESS). */
  metricsAddress: string;
  taskQueue: string;
  /** The Worker Deployment version it polls as, when started with a deployment name. */
  version?: { deploymentName: string; buildId: string };
}

export interface TwinWorkerOptions {
  /** Default: the twin's task queue. */
  taskQueue?: string;
  /** Poll as a version of this Worker Deployment (VUP_DEPLOYMENT_NAME), as compose and the systemd unit do. */
  deploymentName?: string;
  /** VUP_BUILD_ID; without it the worker derives one from its workflow code. */
  buildId?: string;
}

/** The Temporal server's other ports are its defaults shifted by one offset (TEMPORAL_PORT_OFFSET). */
const SHIFTED_PORTS = [6933, 6934, 6935, 6939, 7234, 7235, 7239];

/** An offset under which all of the server's shifted ports are free, below the OS's ephemeral range. */
async function freePortOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 3000 + Math.floor(Math.random() * 19000);
    const free = await Promise.all(SHIFTED_PORTS.map((p) => portIsFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free block of ports for the Temporal server');
}

/** Debian's PostgreSQL binaries (newest major version installed), or those on PATH. */
async function postgresBin(): Promise<string> {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = (await readdir(base)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(path.join(base, v, 'bin', 'postgres'))) return path.join(base, v, 'bin');
  }
  const { stdout } = await run('sh', ['-c', 'dirname "$(command -v postgres)"']).catch(() => ({ stdout: '' }));
  if (!stdout.trim() || stdout.trim() === '.') throw new Error('PostgreSQL is not installed (Debian: postgresql)');
  return stdout.trim();
}

/** PostgreSQL refuses root: run it as the `postgres` user then. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as');
  });
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

export async function startProductionTwin(options: ProductionTwinOptions = {}): Promise<ProductionTwin> {
  const log = options.log ?? (() => {});
  const root = repoRoot();
  const deploy = (...p: string[]) => path.join(root, 'deploy', ...p);
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const cleanups = teardownStack();
  const work = await mkdtemp(path.join(tmpdir(), 'vup-stack-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  let client: Client | undefined;
  let server: ManagedProcess | undefined;
  const workers: TwinWorker[] = [];
  const started: ManagedProcess[] = [];

  try {
    const binaries = await resolveTemporalServer({ log });
    if (!binaries) throw new Error('no Temporal server: `npm run servers` builds it (needs Go)');
    const cli = await resolveTemporalCli({ log });
    if (cli.type !== 'existing-path') throw new Error('no temporal CLI: `npm run servers` builds it (needs Go)');
    const built = ['worker/main.js', 'workflow-bundle.js'].every((f) => existsSync(path.join(root, 'dist', f)));
    if (options.build ?? !built) {
      log('building dist/ (npm run build)');
      await run('npm', ['run', '--silent', 'build'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    }

    // --- TLS: the stack's CA, the frontend's and the clients' certificates ---
    const tls = path.join(work, 'tls');
    await run('sh', [deploy('tls', 'make-certs.sh'), tls], { env: { ...process.env, TLS_SERVER_NAME: 'temporal' } });

    // --- PostgreSQL: a private cluster ---
    const bin = await postgresBin();
    const pgUser = await postgresUser();
    const asPg = pgUser ?? {};
    await chmod(work, 0o711); // the postgres user passes through to its own folder
    const pgData = path.join(work, 'postgresql');
    await mkdir(pgData, { mode: 0o700 });
    const password = randomBytes(18).toString('base64url');
    const pwFile = path.join(work, 'pg-password');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (pgUser) {
      await chown(pgData, pgUser.uid, pgUser.gid);
      await chown(pwFile, pgUser.uid, pgUser.gid);
    }
    const pgPort = await freePort();
    await run(
      path.join(bin, 'initdb'),
      ['-D', pgData, '-U', 'temporal', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-instructions'],
      { ...asPg, env: { ...process.env, LC_ALL: 'C' } },
    );
    await rm(pwFile);
    const postgres = startProcess(
      'postgresql',
      path.join(bin, 'postgres'),
      ['-D', pgData, '-p', String(pgPort), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      { ...asPg, env: { ...process.env, LC_ALL: 'C' } },
    );
    started.push(postgres);
    cleanups.push(() => postgres.stop(20_000)); // SIGTERM: PostgreSQL's smart shutdown
    await postgres.waitFor(/ready to accept connections/, 60_000);
    log(`postgresql on 127.0.0.1:${pgPort}`);

    // --- the schema, by the same script compose runs ---
    await run('sh', [deploy('temporal', 'setup-schema.sh')], {
      env: {
        ...process.env,
        TEMPORAL_SQL_TOOL: binaries.sqlTool,
        SQL_HOST: '127.0.0.1',
        SQL_PORT: String(pgPort),
        SQL_USER: 'temporal',
        SQL_PASSWORD: password,
      },
      maxBuffer: 16 * 1024 * 1024,
    });

    // --- the Temporal server on deploy/temporal/config.yaml ---
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const metricsPort = await freePort();
    const portOffset = await freePortOffset();
    const serverEnv = {
      ...process.env,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(pgPort),
      POSTGRES_USER: 'temporal',
      POSTGRES_PWD: password,
      BIND_ON_IP: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(grpcPort),
      FRONTEND_HTTP_PORT: String(httpPort),
      TEMPORAL_PORT_OFFSET: String(portOffset),
      TEMPORAL_TLS_DIR: tls,
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
      PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}`,
      DYNAMIC_CONFIG_FILE_PATH: deploy('temporal', 'dynamicconfig.yaml'),
      LOG_LEVEL: 'warn',
    };
    const startServer = async () => {
      server = startProcess(
        'temporal-server',
        binaries.server,
        ['--config-file', deploy('temporal', 'config.yaml'), '--allow-no-auth', 'start'],
        { env: serverEnv, cwd: work },
      );
      started.push(server);
      await waitForPort(grpcPort, server, 120_000);
    };
    cleanups.push(async () => server?.stop(15_000));
    await startServer();
    const address = `127.0.0.1:${grpcPort}`;
    log(`temporal server on ${address} (mutual TLS), metrics on 127.0.0.1:${metricsPort}`);

    // --- the connection profile every client uses ---
    const configFile = path.join(work, 'temporal.toml');
    await writeFile(
      configFile,
      [
        `[profile.${TWIN_PROFILE}]`,
        `address = "${address}"`,
        `namespace = "${TWIN_NAMESPACE}"`,
        '',
        `[profile.${TWIN_PROFILE}.tls]`,
        `client_cert_path = "${path.join(tls, 'client.pem')}"`,
        `client_key_path = "${path.join(tls, 'client-key.pem')}"`,
        `server_ca_cert_path = "${path.join(tls, 'ca.pem')}"`,
        `server_name = "temporal"`,
        '',
      ].join('\n'),
    );
    const clientEnv = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: TWIN_PROFILE };

    // --- the namespace and search attributes, by the same script compose runs ---
    await run('sh', [deploy('temporal', 'create-namespace.sh')], {
      env: { ...process.env, ...clientEnv, TEMPORAL_NAMESPACE: TWIN_NAMESPACE, TEMPORAL_CLI: cli.path },
      maxBuffer: 16 * 1024 * 1024,
    });
    log(`namespace ${TWIN_NAMESPACE} with the upgrade search attributes`);

    // --- Prometheus on deploy/prometheus/prometheus.yml (linked, so its targets/ are the twin's) ---
    const promDir = path.join(work, 'prometheus');
    await mkdir(path.join(promDir, 'targets'), { recursive: true });
    await symlink(deploy('prometheus', 'prometheus.yml'), path.join(promDir, 'prometheus.yml'));
    const writeTargets = async () => {
      const target = (addresses: string[]) => JSON.stringify([{ targets: addresses, labels: { deployment: 'twin' } }]);
      await writeFile(path.join(promDir, 'targets', 'temporal.json'), target([`127.0.0.1:${metricsPort}`]));
      await writeFile(path.join(promDir, 'targets', 'worker.json'), target(workers.map((w) => w.metricsAddress)));
    };
    await writeTargets();
    const promPort = await freePort();
    const prometheus = startProcess(
      'prometheus',
      'prometheus',
      [
        `--config.file=${path.join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(work, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { cwd: work },
    );
    started.push(prometheus);
    cleanups.push(() => prometheus.stop(10_000));
    await prometheus.waitFor(/Server is ready to receive web requests/, 60_000);
    log(`prometheus on http://127.0.0.1:${promPort}`);

    // --- the inventory the workers read (VUP_INVENTORY), as an operator writes it ---
    const inventoryFile = path.join(work, 'inventory.yaml');
    const writeInventory = async (inventory: Inventory | InventoryInput) => {
      const valid = validateInventory(inventory, 'the twin inventory');
      const text =
        "# The production twin's worker inventory (VUP_INVENTORY). Edit it, then SIGHUP the workers.\n" + toYaml(valid);
      // A worker reloading mid-write must read the old file or the new one, never half of one.
      const partial = `${inventoryFile}.${process.pid}.tmp`;
      await writeFile(partial, text, { mode: 0o600 });
      await rename(partial, inventoryFile);
      return valid;
    };
    await writeInventory(options.inventory ?? EMPTY_INVENTORY);

    // --- the workers: the built worker, connected through the profile ---
    let workerCount = 0;
    const jemalloc = findJemalloc();
    const startWorker = async (opts: TwinWorkerOptions = {}): Promise<TwinWorker> => {
      workerCount++;
      const metricsAddress = `127.0.0.1:${await freePort()}`;
      const queue = opts.taskQueue ?? taskQueue;
      const versioning = {
        ...(opts.deploymentName ? { VUP_DEPLOYMENT_NAME: opts.deploymentName } : {}),
        ...(opts.buildId ? { VUP_BUILD_ID: opts.buildId } : {}),
      };
      const p = startProcess(
        `worker-${workerCount}`,
        process.execPath,
        [path.join(root, 'dist', 'worker', 'main.js'), '--task-queue', queue],
        {
          cwd: root,
          env: {
            ...withoutWorkerSettings(process.env),
            ...clientEnv,
            ...versioning,
            VUP_METRICS_ADDRESS: metricsAddress,
            VUP_INVENTORY: inventoryFile,
            VUP_LOG_LEVEL: 'WARN',
            // As the image runs it (deploy/Dockerfile), where this machine has jemalloc.
            ...(jemalloc ? { LD_PRELOAD: jemalloc } : {}),
          },
        },
      );
      const ready = p.waitFor(/worker polling task queue/, 180_000);
      ready.catch(() => undefined); // awaited below; a reload that meets a dead worker says so itself
      const worker: TwinWorker = Object.assign(p, { metricsAddress, taskQueue: queue, ready });
      started.push(worker);
      workers.push(worker);
      await writeTargets();
      await ready;
      if (opts.deploymentName) {
        // "... as <deployment>.<build id>; metrics on ...": the build id the worker polls as.
        const polling = new RegExp(`worker polling task queue .* as ${opts.deploymentName}\\.([^;\\s]+)`).exec(
          p.output(),
        );
        if (!polling) throw new Error(`${p.name} does not say which version it polls as:\n${p.output()}`);
        worker.version = { deploymentName: opts.deploymentName, buildId: polling[1]! };
      }
      return worker;
    };
    cleanups.push(async () => {
      for (const w of workers) await w.stop(10_000);
    });
    // Started one after the other: starting a worker takes both cores for a while.
    for (let i = 0; i < (options.workers ?? 2); i++) {
      const w = await startWorker();
      log(`${w.name} (pid ${w.pid}) polling "${taskQueue}", metrics on ${w.metricsAddress}`);
    }

    // One inventory change at a time, so each worker's answer is to the file as the change left it.
    let queue: Promise<unknown> = Promise.resolve();
    const serially = <T>(task: () => Promise<T>): Promise<T> => {
      const next = queue.then(task);
      queue = next.catch(() => undefined);
      return next;
    };
    const said = new RegExp(
      `inventory ${escapeRegExp(inventoryFile)} (?:reloaded:[^\\n]*|NOT reloaded[^\\n]*(?:\\n  [^\\n]*)*)`,
    );
    const hangUp = async (worker: TwinWorker): Promise<InventoryReload | undefined> => {
      // One still starting may have read the file before it changed; its handler is installed once it polls.
      await worker.ready.catch(() => undefined);
      const mark = worker.mark();
      if (!worker.signal('SIGHUP')) return undefined;
      await worker.waitFor(said, RELOAD_TIMEOUT_MS, mark);
      const line = said.exec(worker.outputSince(mark))![0];
      return { worker, reloaded: !line.includes('NOT reloaded'), line };
    };
    const hangUpAll = async () =>
      (await Promise.all(workers.filter((w) => w.running()).map(hangUp))).filter(
        (a): a is InventoryReload => a !== undefined,
      );
    const reloadInventory = () => serially(hangUpAll);
    const setInventory = (inventory: Inventory | InventoryInput) =>
      serially(async () => {
        const valid = await writeInventory(inventory);
        const answers = await hangUpAll();
        const refused = answers.filter((a) => !a.reloaded);
        if (refused.length > 0)
          throw new Error(`inventory kept by ${refused.map((a) => `${a.worker.name}: ${a.line}`).join('; ')}`);
        log(
          `inventory ${inventoryFile}: ${summarize(valid)}; reloaded by ${answers.map((a) => a.worker.name).join(', ')}`,
        );
        return answers;
      });

    cleanups.push(async () => {
      await client?.connection.close();
    });
    return {
      configFile,
      profile: TWIN_PROFILE,
      address,
      namespace: TWIN_NAMESPACE,
      taskQueue,
      postgres: { host: '127.0.0.1', port: pgPort, user: 'temporal' },
      prometheusUrl: `http://127.0.0.1:${promPort}`,
      serverMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      workers,
      inventoryFile,
      setInventory,
      reloadInventory,
      clientEnv,
      server: () => server!,
      processes: () => [...started],
      workDir: work,
      async queryPrometheus(promql) {
        const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = (await res.json()) as {
          status: string;
          error?: string;
          data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        if (body.status !== 'success') throw new Error(`prometheus: ${promql}: ${body.error ?? res.status}`);
        return body.data!.result;
      },
      startWorker,
      async restartServer({ kill = false, downMs = 0 } = {}) {
        if (kill) await server!.kill();
        else await server!.stop(15_000);
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        await startServer();
      },
      async client() {
        if (!client) {
          const config = loadClientConnectConfig({
            profile: TWIN_PROFILE,
            configSource: { path: configFile },
            disableEnv: true,
          });
          const connection = await Connection.connect(config.connectionOptions);
          client = new Client({ connection, namespace: config.namespace ?? TWIN_NAMESPACE });
        }
        return client;
      },
      stop: () => cleanups.runAll(),
    };
  } catch (err) {
    await cleanups.runAll();
    throw err;
  }
}

/** The environment without the worker settings a developer may have exported: the twin sets its own. */
function withoutWorkerSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { VUP_DEPLOYMENT_NAME: _d, VUP_BUILD_ID: _b, VUP_TASK_QUEUE: _q, VUP_INVENTORY: _i, ...rest } = env;
  return rest;
}

function summarize(inventory: Inventory): string {
  const ids = inventory.validators.map((v) => v.id).join(', ');
  return `${inventory.validators.length} validator(s)${ids ? ` (${ids})` : ''}, ${inventory.nodes.length} node(s), ${inventory.hosts.length} host(s)`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects if the process exits first. */
async function waitForPort(port: number, owner: ManagedProcess, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (!owner.running()) throw new Error(`${owner.name} exited:\n${owner.output()}`);
    if (Date.now() > deadline) throw new Error(`${owner.name} did not listen on ${port} in time:\n${owner.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
