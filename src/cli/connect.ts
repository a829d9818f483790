/**
 * The CLI connects like the `temporal` CLI and the worker (worker/main.ts): TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile of temporal.toml (TEMPORAL_CONFIG_FILE,
 * TEMPORAL_PROFILE), read by @temporalio/envconfig.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { CliError, EXIT } from './errors.js';

export interface Connected {
  client: Client;
  close: () => Promise<void>;
}

export async function connect(): Promise<Connected> {
  let config;
  try {
    config = loadClientConnectConfig();
  } catch (err) {
    throw new CliError(`cannot read the Temporal configuration: ${(err as Error).message}`, EXIT.usage);
  }
  const address = config.connectionOptions.address ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new CliError(`cannot reach Temporal at ${address}: ${(err as Error).message}`, EXIT.unreachable);
  }
  const client = new Client({ connection, namespace: config.namespace ?? 'default' });
  return { client, close: () => connection.close() };
}
