/**
 * Finds (or builds) real Temporal servers without the internet, for tests and the demo.
 *
 * The SDK's own download (temporal.download) is unreachable on offline machines, so:
 * - dev server: the official `temporal` CLI, built from the Go module proxy (`go install …@v1.5.1`);
 * - time-skipping server: Temporal's Java test server, fetched from Maven Central by tools/temporal-test-server.
 * Both reach TestWorkflowEnvironment as `existing-path` executables. Where nothing local is found and no
 * toolchain can build it, the SDK's cached download is the fallback (fine for machines with internet).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/repo-root.js';

const run = promisify(execFile);

/** Later CLI tags carry replace directives in go.mod, so `go install …@version` refuses them. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type ServerExecutable =
  { type: 'existing-path'; path: string; origin: string } | { type: 'cached-download'; origin: string };

export function cacheDir(): string {
  if (process.env.VUP_CACHE_DIR) return process.env.VUP_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache');
  return path.join(base, 'validator-upgrades');
}

async function commandPath(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v "$1"', 'sh', name]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Where `go install` puts the CLI we build; keyed by version so a pin change rebuilds. */
export function cachedCliPath(): string {
  return path.join(cacheDir(), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

/**
 * Resolution order: TEMPORAL_CLI_PATH, `temporal` on PATH, the cached build, a fresh build when Go is
 * present, else the SDK's download.
 */
export async function resolveTemporalCli(opts: { build?: boolean; log?: (line: string) => void } = {}) {
  const log = opts.log ?? (() => {});
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} does not exist`);
    return existing(fromEnv, 'TEMPORAL_CLI_PATH');
  }
  const onPath = await commandPath('temporal');
  if (onPath) return existing(onPath, 'PATH');
  const cached = cachedCliPath();
  if (existsSync(cached)) return existing(cached, 'cache');
  if (opts.build !== false && (await commandPath('go'))) {
    log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy (once; cached in ${cached})`);
    const staging = `${path.dirname(cached)}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await run('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
    await mkdir(path.dirname(path.dirname(cached)), { recursive: true });
    await rm(path.dirname(cached), { recursive: true, force: true });
    await rename(staging, path.dirname(cached));
    return existing(cached, 'built');
  }
  return { type: 'cached-download', origin: 'SDK download' } satisfies ServerExecutable;
}

/**
 * The Temporal server of the production twin (devnet/stack/): `go.temporal.io/server` v1.30.4 (its go.mod
 * asks for Go 1.25.8, so this machine's Go builds it; 1.31+ need a newer toolchain), the same 1.30 line as
 * the temporalio/server image docker-compose.yml runs. Its cmd/server and cmd/tools/sql (the SQL schema tool,
 * with the PostgreSQL schemas embedded) are built together and cached by version.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.30.4';
const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';

export interface TemporalServerBinaries {
  /** temporal-server (cmd/server). */
  server: string;
  /** temporal-sql-tool (cmd/tools/sql). */
  sqlTool: string;
  origin: string;
}

export function cachedTemporalServerDir(): string {
  return path.join(cacheDir(), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/**
 * Resolution order: TEMPORAL_SERVER_PATH with TEMPORAL_SQL_TOOL_PATH, the cached build, a fresh build when
 * Go is present (about 5 minutes on 2 cores with empty Go caches), else undefined.
 */
export async function resolveTemporalServer(
  opts: { build?: boolean; log?: (line: string) => void } = {},
): Promise<TemporalServerBinaries | undefined> {
  const log = opts.log ?? (() => {});
  const fromEnv = { server: process.env.TEMPORAL_SERVER_PATH, sqlTool: process.env.TEMPORAL_SQL_TOOL_PATH };
  if (fromEnv.server || fromEnv.sqlTool) {
    for (const [name, p] of Object.entries({
      TEMPORAL_SERVER_PATH: fromEnv.server,
      TEMPORAL_SQL_TOOL_PATH: fromEnv.sqlTool,
    })) {
      if (!p || !existsSync(p)) throw new Error(`${name}=${p ?? ''} does not exist (set both or neither)`);
    }
    return { server: fromEnv.server!, sqlTool: fromEnv.sqlTool!, origin: 'TEMPORAL_SERVER_PATH' };
  }
  const dir = cachedTemporalServerDir();
  const cached = { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool') };
  if (existsSync(cached.server) && existsSync(cached.sqlTool)) return { ...cached, origin: 'cache' };
  if (opts.build === false || !(await commandPath('go'))) return undefined;
  log(`building the Temporal server ${TEMPORAL_SERVER_VERSION} from the Go module proxy (once; cached in ${dir})`);
  const staging = `${dir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const packages = ['cmd/server', 'cmd/tools/sql'].map(
    (p) => `${TEMPORAL_SERVER_MODULE}/${p}@${TEMPORAL_SERVER_VERSION}`,
  );
  await run('go', ['install', ...packages], {
    env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  await rename(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
  await rename(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
  await mkdir(path.dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  return { ...cached, origin: 'built' };
}

const testServerPom = () => path.join(repoRoot(), 'tools', 'temporal-test-server', 'pom.xml');
const testServerWrapper = () => path.join(repoRoot(), 'tools', 'temporal-test-server', 'temporal-test-server');

/** The test-server version pinned in the pom, which also keys the cache. */
export function testServerVersion(): string {
  const pom = readFileSync(testServerPom(), 'utf8');
  const version = /<temporal\.version>([^<]+)<\/temporal\.version>/.exec(pom)?.[1];
  if (!version) throw new Error(`no <temporal.version> in ${testServerPom()}`);
  return version;
}

export function cachedTestServerLib(): string {
  return path.join(cacheDir(), 'temporal-test-server', testServerVersion(), 'lib');
}

function hasJars(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('temporal-test-server-'));
}

/**
 * Resolution order: TEMPORAL_TEST_SERVER_PATH (any executable taking `<port>`), the cached jars behind our
 * wrapper, a fresh Maven fetch when Maven and Java are present, else the SDK's download.
 * The wrapper finds its jars through TEMPORAL_TEST_SERVER_LIB, which this sets in process.env (the SDK
 * spawns the server with the Node process's environment).
 */
export async function resolveTimeSkippingServer(opts: { build?: boolean; log?: (line: string) => void } = {}) {
  const log = opts.log ?? (() => {});
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} does not exist`);
    return existing(fromEnv, 'TEMPORAL_TEST_SERVER_PATH');
  }
  const lib = process.env.TEMPORAL_TEST_SERVER_LIB ?? cachedTestServerLib();
  if (!hasJars(lib)) {
    const canBuild = opts.build !== false && (await commandPath('mvn')) && (await commandPath('java'));
    if (!canBuild) return { type: 'cached-download', origin: 'SDK download' } satisfies ServerExecutable;
    log(`fetching Temporal's Java test server ${testServerVersion()} from Maven Central (once; cached in ${lib})`);
    const staging = `${lib}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await run(
      'mvn',
      ['-q', '-B', '-f', testServerPom(), 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await rm(lib, { recursive: true, force: true });
    await mkdir(path.dirname(lib), { recursive: true });
    await rename(staging, lib);
  }
  if (!(await commandPath('java'))) return { type: 'cached-download', origin: 'SDK download' } as ServerExecutable;
  process.env.TEMPORAL_TEST_SERVER_LIB = lib;
  return existing(testServerWrapper(), `jars in ${lib}`);
}

function existing(p: string, origin: string): ServerExecutable {
  return { type: 'existing-path', path: p, origin };
}

/** The SDK's executable option for a resolved server. */
export function toSdkExecutable(exe: ServerExecutable) {
  return exe.type === 'existing-path'
    ? ({ type: 'existing-path', path: exe.path } as const)
    : ({ type: 'cached-download' } as const);
}
