/**
 * The machines under a testbed, the same for NEAR and Polkadot: a scratch folder and an SSH connection pool on
 * the worker's side, one real sshd per host (devnet/hosts/sshd.ts) whose services run through the `commands`
 * service manager (service-ctl), binaries staged on every host with their sha256, service definitions that
 * are stopped at teardown, and one teardown for all of it and for whatever the testbed adds (its network).
 *
 *   const machines = await startMachines({ name: 'near', hosts: ['val-a', 'val-b'] });
 *   try {
 *     machines.cleanups.push(() => devnet.stop());
 *     const staged = await machines.stageBinary((root) => path.join(root, 'opt', 'neard'), writeBinary);
 *     await machines.defineService('val-a', 'neard', { argv: [...] });
 *     await machines.handOver();             // what the testbed wrote becomes the SSH user's
 *   } catch (err) {
 *     await machines.stop();
 *     throw err;
 *   }
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostSpec } from '../../src/config/host.js';
import { SshConnectionPool } from '../../src/ssh/connection.js';
import { startService } from '../../src/ssh/service-control.js';
import { isServiceActive, stopService } from '../hosts/service-ctl.js';
import { serviceCtlManager, writeServiceDefinition } from '../hosts/service-manager.js';
import { startSshHost, type SshHost } from '../hosts/sshd.js';
import { teardownStack } from '../teardown.js';

export interface TestbedHost {
  name: string;
  /** The HostSpec the activities take (its serviceManager is the testbed's service-ctl). */
  spec: HostSpec;
  /** The folder standing for the machine's disk. */
  root: string;
  sshd: SshHost;
}

export interface MachinesOptions {
  /** Names the scratch folder (vup-<name>-testbed-...). */
  name: string;
  hosts: string[];
  /** The machines' SSH user when the tests run as root (devnet/hosts/sshd.ts); default: this process's user. */
  sshUser?: string;
  /** Stop grace of the services (TERM → KILL), default 5 s. */
  stopGraceMs?: number;
  /** The hosts hold commands' answers when a crash test asks (devnet/hosts/sshd.ts `holdAnswers`). */
  holdAnswers?: boolean;
}

export interface StagedBinary {
  sha256: string;
  /** Where it is staged on a host (a source for installBinary). */
  staged: (host: string) => string;
}

export interface Machines {
  hosts: Record<string, TestbedHost>;
  connections: SshConnectionPool;
  /** The scratch folder on the worker's side (signer files). */
  workDir: string;
  /** Teardown, newest first: push what the testbed starts besides the machines. */
  cleanups: ReturnType<typeof teardownStack>;
  host(name: string): TestbedHost;
  /** Writes a binary on every host at `at(root)` (by `write`) and reads its sha256 once. */
  stageBinary(at: (root: string) => string, write: (file: string) => void): Promise<StagedBinary>;
  /** A service on `host` running `argv`, stopped at teardown. */
  defineService(host: string, service: string, argv: string[]): Promise<void>;
  /** Starts a service the way the host activities do: over SSH, through the host's service manager. */
  startService(host: string, service: string): Promise<void>;
  /** Is the service running (read on the machine's folder, not over SSH)? */
  isRunning(host: string, service: string): boolean;
  /** Everything written into the machines so far becomes their SSH user's (nothing to do when that is us). */
  handOver(): Promise<void>;
  /** Tears down everything pushed on `cleanups`, the machines last. */
  stop(): Promise<void>;
}

export async function startMachines(options: MachinesOptions): Promise<Machines> {
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const cleanups = teardownStack();
  const workDir = await mkdtemp(path.join(tmpdir(), `vup-${options.name}-testbed-`));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  const connections = new SshConnectionPool();
  cleanups.push(() => connections.closeAll());
  const hosts: Record<string, TestbedHost> = {};
  try {
    const started = await Promise.all(
      options.hosts.map(async (name) => {
        const sshd = await startSshHost({ name, user: options.sshUser, holdAnswers: options.holdAnswers });
        cleanups.push(() => sshd.stop());
        return sshd;
      }),
    );
    for (const [i, name] of options.hosts.entries()) {
      const sshd = started[i]!;
      const serviceManager = serviceCtlManager(sshd.rootDir, { graceMs: options.stopGraceMs });
      hosts[name] = { name, root: sshd.rootDir, sshd, spec: { ...sshd.spec, serviceManager } };
    }
  } catch (err) {
    await cleanups.runAll();
    throw err;
  }

  const host = (name: string): TestbedHost => {
    const found = hosts[name];
    if (!found) throw new Error(`the testbed has no host ${name}`);
    return found;
  };
  return {
    hosts,
    connections,
    workDir,
    cleanups,
    host,
    async stageBinary(at, write) {
      for (const h of Object.values(hosts)) write(at(h.root));
      const first = Object.values(hosts)[0];
      const sha256 = first
        ? createHash('sha256')
            .update(await readFile(at(first.root)))
            .digest('hex')
        : '';
      return { sha256, staged: (name) => at(host(name).root) };
    },
    async defineService(name, service, argv) {
      const root = host(name).root;
      await writeServiceDefinition(root, service, { argv, stopGraceMs });
      cleanups.push(async () => void (await stopService(root, service, 10_000)));
    },
    async startService(name, service) {
      const spec = host(name).spec;
      await startService(await connections.get(spec), spec.serviceManager, service);
    },
    isRunning: (name, service) => isServiceActive(host(name).root, service),
    handOver: async () => void (await Promise.all(Object.values(hosts).map((h) => h.sshd.chownToUser()))),
    stop: () => cleanups.runAll(),
  };
}
