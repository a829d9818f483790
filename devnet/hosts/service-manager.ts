/**
 * The `commands` service manager of a testbed host: argv templates that run service-ctl.ts over SSH, and the
 * service definitions it reads. Testbed machines are folders on this computer, so definitions are written
 * directly.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ServiceManagerSpec } from '../../src/config/host.js';
import { repoRoot } from '../../src/repo-root.js';
import { serviceDefinition, serviceFiles, type ServiceDefinition } from './service-ctl.js';

export function serviceCtlPath(): string {
  return path.join(repoRoot(), 'devnet', 'hosts', 'service-ctl.ts');
}

/** `{service}` in each template is replaced by the service name (see src/config/host.ts). */
export function serviceCtlManager(
  machineRoot: string,
  options: { graceMs?: number } = {},
): Extract<ServiceManagerSpec, { type: 'commands' }> {
  const tsx = createRequire(path.join(repoRoot(), 'package.json')).resolve('tsx');
  const base = [process.execPath, '--import', tsx, serviceCtlPath()];
  const grace = options.graceMs === undefined ? [] : ['--grace-ms', String(options.graceMs)];
  // One start or stop at a time per machine: a retried activity can overlap an attempt that still runs.
  // -o: only flock holds the lock, never service-ctl or the service it spawns.
  const locked = ['flock', '-o', '-w', '300', path.join(machineRoot, '.service-ctl.lock')];
  return {
    type: 'commands',
    start: [...locked, ...base, 'start', '{service}', '--root', machineRoot],
    stop: [...locked, ...base, 'stop', '{service}', '--root', machineRoot, ...grace],
    isActive: [...base, 'is-active', '{service}', '--root', machineRoot],
  };
}

export async function writeServiceDefinition(
  machineRoot: string,
  name: string,
  definition: ServiceDefinition,
): Promise<string> {
  const file = serviceFiles(machineRoot, name).definition;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(serviceDefinition.parse(definition), null, 2) + '\n');
  return file;
}
