/**
 * Every activity the worker registers, built from its dependencies (no globals), so tests build the same
 * set against their own hosts and chains.
 */
import type { SshConnectionProvider } from '../src/ssh/connection.js';
import { createHostActivities } from './host/index.js';

export interface ActivityDeps {
  connections: SshConnectionProvider;
  heartbeatIntervalMs?: number;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHostActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
