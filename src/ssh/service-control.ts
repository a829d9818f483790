/**
 * Starting, stopping and observing node services through a host's service manager. "Stopped" is something
 * we observe (the manager reports the service inactive), never something we infer from a stop command's
 * exit code: a node believed stopped but still signing is how double signing happens.
 */
import type { ServiceManagerSpec } from '../config/host.js';
import { serviceName } from '../config/primitives.js';
import { describeHost, type SshConnection } from './connection.js';
import { HostError } from './errors.js';
import { execCapture } from './exec.js';

export type ServiceAction = 'start' | 'stop' | 'isActive';

export function serviceArgv(manager: ServiceManagerSpec, action: ServiceAction, service: string): string[] {
  if (!serviceName.safeParse(service).success) {
    throw new HostError('BadInput', `"${service}" is not a plain service name`);
  }
  if (manager.type === 'commands') return manager[action].map((arg) => arg.replaceAll('{service}', service));
  // is-active needs no privileges, and sudo failing must never read as "inactive".
  if (action === 'isActive') return ['systemctl', 'is-active', '--quiet', '--', service];
  const systemctl = ['systemctl', action, '--', service];
  return manager.sudo ? ['sudo', '-n', ...systemctl] : systemctl;
}

export interface ServiceCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export async function isServiceActive(
  connection: SshConnection,
  manager: ServiceManagerSpec,
  service: string,
  options: ServiceCallOptions = {},
): Promise<boolean> {
  const result = await execCapture(connection, serviceArgv(manager, 'isActive', service), {
    timeoutMs: options.timeoutMs ?? 60_000,
    signal: options.signal,
  });
  if (result.exitCode === 0) return true;
  // 3 is "not running" for systemctl and the LSB; anything that means "could not even ask" is not an answer.
  const cannotTell =
    result.exitCode === 126 ||
    result.exitCode === 127 ||
    result.exitCode === 255 ||
    (manager.type === 'systemd' && result.exitCode !== 3);
  if (cannotTell) {
    throw new HostError(
      'ServiceStateUnknown',
      `cannot tell whether ${service} runs on ${describeHost(connection.host)}: the status check exited with ` +
        `${result.exitCode} ${result.stderr.trim()}`,
      { nonRetryable: result.exitCode === 126 || result.exitCode === 127 },
    );
  }
  return false;
}

export async function startService(
  connection: SshConnection,
  manager: ServiceManagerSpec,
  service: string,
  options: ServiceCallOptions = {},
): Promise<{ wasActive: boolean }> {
  if (await isServiceActive(connection, manager, service, options)) return { wasActive: true };
  const result = await execCapture(connection, serviceArgv(manager, 'start', service), {
    timeoutMs: options.timeoutMs ?? 120_000,
    signal: options.signal,
  });
  if (result.exitCode !== 0 || !(await isServiceActive(connection, manager, service, options))) {
    throw new HostError(
      'RemoteCommandFailed',
      `starting ${service} on ${describeHost(connection.host)} failed (exit ${result.exitCode}, ` +
        `${result.exitCode === 0 ? 'but it is not active' : result.stderr.trim()})`,
    );
  }
  return { wasActive: false };
}

export interface StopOptions extends ServiceCallOptions {
  /** How long to keep observing after the stop command before giving up. */
  observeMs?: number;
  pollMs?: number;
  /** Called on each observation that still finds the service active. */
  onStillActive?: (elapsedMs: number) => void;
}

export async function stopService(
  connection: SshConnection,
  manager: ServiceManagerSpec,
  service: string,
  options: StopOptions = {},
): Promise<{ wasActive: boolean; stopExitCode?: number }> {
  if (!(await isServiceActive(connection, manager, service, options))) return { wasActive: false };
  const result = await execCapture(connection, serviceArgv(manager, 'stop', service), {
    timeoutMs: options.timeoutMs ?? 300_000,
    signal: options.signal,
  });
  const started = Date.now();
  for (;;) {
    if (!(await isServiceActive(connection, manager, service, options))) {
      return { wasActive: true, stopExitCode: result.exitCode };
    }
    const elapsed = Date.now() - started;
    if (elapsed > (options.observeMs ?? 120_000)) {
      throw new HostError(
        'ServiceStillActive',
        `${service} on ${describeHost(connection.host)} is still active ${Math.round(elapsed / 1000)} s after ` +
          `the stop command (exit ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''})`,
      );
    }
    options.onStillActive?.(elapsed);
    options.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1_000));
  }
}
