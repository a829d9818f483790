/**
 * Worker Deployment versioning (docs/worker-release.md): a worker that names a deployment polls as one
 * version of it, `<deployment>.<build id>`, and every upgrade it starts stays pinned to that version until it
 * ends, continue-as-new included. A new release is a new build id; making it the deployment's current version
 * sends new upgrades to it while the running ones finish on the build that started them.
 *
 * Off unless a deployment name is given (--deployment-name or VUP_DEPLOYMENT_NAME): then the worker polls
 * unversioned, as before. The build id is --build-id or VUP_BUILD_ID, else `<package version>-<first 12 hex
 * of the sha256 of the workflow bundle>`: the same workflow code gives the same build id, any change to it
 * (what decides whether a running history still replays) gives a new one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NativeConnection, WorkerDeploymentOptions } from '@temporalio/worker';
import { repoRoot } from '../src/repo-root.js';

export interface VersioningSettings {
  deploymentName?: string;
  buildId?: string;
}

/** A build id from the package version and the workflow bundle's code. */
export function defaultBuildId(bundleCode: string, packageVersion = readPackageVersion()): string {
  const digest = createHash('sha256').update(bundleCode).digest('hex').slice(0, 12);
  return `${packageVersion}-${digest}`;
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Deployment names and build ids become `name.buildId`: no dots in the name, and nothing odd in either. */
function checked(what: string, value: string, allowDot: boolean): string {
  const pattern = allowDot ? /^[A-Za-z0-9_+\-.]{1,255}$/ : /^[A-Za-z0-9_-]{1,255}$/;
  if (!pattern.test(value))
    throw new Error(
      `${what} "${value}" may hold only letters, digits, _ and -${allowDot ? ', + and .' : ''} (at most 255)`,
    );
  return value;
}

/**
 * The Worker's deployment options, or undefined when versioning is off. `bundleCode` is used only for the
 * default build id.
 */
export function deploymentOptions(
  settings: VersioningSettings,
  bundleCode: () => string,
): WorkerDeploymentOptions | undefined {
  const name = settings.deploymentName?.trim();
  if (!name) {
    if (settings.buildId) throw new Error('a build id needs a deployment name (VUP_DEPLOYMENT_NAME)');
    return undefined;
  }
  const buildId = settings.buildId?.trim() || defaultBuildId(bundleCode());
  return {
    version: { deploymentName: checked('deployment name', name, false), buildId: checked('build id', buildId, true) },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  };
}

const GRPC_NOT_FOUND = 5;

interface Routing {
  /** The build id of the deployment's current version, if it has one. */
  current?: string;
  conflictToken?: Uint8Array | null;
}

async function describeRouting(connection: NativeConnection, namespace: string, deploymentName: string) {
  try {
    const answer = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    const current = answer.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;
    return { current: current || undefined, conflictToken: answer.conflictToken } satisfies Routing;
  } catch (err) {
    // The deployment exists once one of its workers has polled.
    if ((err as { code?: unknown }).code === GRPC_NOT_FOUND) return {} satisfies Routing;
    throw err;
  }
}

/**
 * What an operator must know about where new upgrades go, said before this build polls: new upgrades go to
 * the deployment's current version only, so a build that is not current serves nothing but the runs pinned
 * to it. Undefined when this build is the current version.
 */
export async function routingNote(
  connection: NativeConnection,
  namespace: string,
  options: WorkerDeploymentOptions,
): Promise<string | undefined> {
  const { deploymentName, buildId } = options.version;
  const { current } = await describeRouting(connection, namespace, deploymentName);
  if (current === buildId) return undefined;
  if (!current)
    return `deployment ${deploymentName} has no current version yet: build ${buildId} becomes it once this worker polls`;
  const makeCurrent = `temporal worker deployment set-current-version --deployment-name ${deploymentName} --build-id ${buildId}`;
  return `build ${buildId} is not the current version of deployment ${deploymentName}: new upgrades go to its current version ${deploymentName}.${current}; make this build current with: ${makeCurrent}`;
}

/**
 * The first build of a deployment makes itself its current version: with none, new upgrades would go to
 * unversioned workers only, and a fresh stack (compose, the systemd unit) would start upgrades that no
 * worker takes. Once a deployment has a current version, a new build never takes over by itself: that is
 * the release step an operator takes (docs/worker-release.md). Retries until this worker's pollers have
 * reached the server; the conflict token keeps it from overriding a choice made meanwhile.
 */
export async function becomeCurrentIfNone(
  connection: NativeConnection,
  namespace: string,
  options: WorkerDeploymentOptions,
  timeoutMs = 60_000,
): Promise<'made-current' | 'has-current'> {
  const { deploymentName, buildId } = options.version;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const routing = await describeRouting(connection, namespace, deploymentName);
    if (routing.current) return 'has-current';
    try {
      await connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName,
        buildId,
        conflictToken: routing.conflictToken ?? undefined,
        identity: `vup worker ${buildId}`,
      });
      return 'made-current';
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(
          `could not make build ${buildId} the current version of deployment ${deploymentName} (${(err as Error).message}); ` +
            `do it with: temporal worker deployment set-current-version --deployment-name ${deploymentName} --build-id ${buildId}`,
        );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** becomeCurrentIfNone once the worker polls, saying what it did (on stdout) or why it could not (stderr). */
export function becomeCurrentInBackground(
  connection: NativeConnection,
  namespace: string,
  options: WorkerDeploymentOptions,
): void {
  const { deploymentName, buildId } = options.version;
  becomeCurrentIfNone(connection, namespace, options).then(
    (done) => {
      if (done === 'made-current')
        console.log(
          `worker: build ${buildId} is now the current version of deployment ${deploymentName} (it had none)`,
        );
    },
    (err: Error) => console.warn(`worker: ${err.message}`),
  );
}
