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
  const makeCurrent = `temporal worker deployment set-current-version --deployment-name ${deploymentName} --build-id ${buildId}`;
  let current: { buildId?: string | null } | null | undefined;
  try {
    const answer = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    current = answer.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion;
  } catch (err) {
    if ((err as { code?: unknown }).code !== GRPC_NOT_FOUND) throw err;
  }
  if (current?.buildId === buildId) return undefined;
  const now = current?.buildId
    ? `new upgrades go to its current version ${deploymentName}.${current.buildId}`
    : 'it has no current version, so new upgrades go to unversioned workers only';
  return `build ${buildId} is not the current version of deployment ${deploymentName}: ${now}; once this worker polls, make it current with: ${makeCurrent}`;
}
