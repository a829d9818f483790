/**
 * The CLI connects like the `temporal` CLI and the worker (worker/main.ts): TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile of temporal.toml (TEMPORAL_CONFIG_FILE,
 * TEMPORAL_PROFILE), read by @temporalio/envconfig. With VUP_CODEC_KEYS naming a key file, it encrypts what it
 * sends and decrypts what it reads, like the worker (src/codec).
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { CodecKeysError, dataConverterFromEnv } from '../codec/index.js';
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
  let dataConverter;
  try {
    dataConverter = await dataConverterFromEnv();
  } catch (err) {
    if (err instanceof CodecKeysError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const address = config.connectionOptions.address ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new CliError(`cannot reach Temporal at ${address}: ${(err as Error).message}`, EXIT.unreachable);
  }
  const client = new Client({ connection, namespace: config.namespace ?? 'default', dataConverter });
  return { client, close: () => connection.close() };
}
