/**
 * `vup codec-server`: decrypts and encrypts payloads for the Temporal UI and `temporal --codec-endpoint`
 * with the key file VUP_CODEC_KEYS names. Callers send the token of VUP_CODEC_TOKEN_FILE (or VUP_CODEC_TOKEN)
 * as a bearer token; pages of the --ui-origin origins may call it from the browser. Runs until SIGINT or
 * SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { CODEC_KEYS_ENV, CodecKeysError, payloadCodecFromEnv } from '../../codec/index.js';
import { startCodecServer } from '../../codec/server.js';
import { CliError, EXIT } from '../errors.js';

export const CODEC_TOKEN_FILE_ENV = 'VUP_CODEC_TOKEN_FILE';
export const CODEC_TOKEN_ENV = 'VUP_CODEC_TOKEN';

export interface CodecServerCliOptions {
  listen: string;
  uiOrigin: string[];
  tlsCert?: string;
  tlsKey?: string;
}

async function readToken(env: NodeJS.ProcessEnv): Promise<string> {
  const file = env[CODEC_TOKEN_FILE_ENV];
  if (file) {
    const token = await readFile(file, 'utf8').then(
      (text) => text.trim(),
      (err: NodeJS.ErrnoException) => {
        throw new CliError(
          `cannot read the codec token file ${file} (${CODEC_TOKEN_FILE_ENV}): ${err.code}`,
          EXIT.usage,
        );
      },
    );
    if (!token) throw new CliError(`the codec token file ${file} (${CODEC_TOKEN_FILE_ENV}) is empty`, EXIT.usage);
    return token;
  }
  const token = env[CODEC_TOKEN_ENV]?.trim();
  if (!token) {
    throw new CliError(
      `no token: set ${CODEC_TOKEN_FILE_ENV} to a file holding the token callers send (or ${CODEC_TOKEN_ENV} to the token)`,
      EXIT.usage,
    );
  }
  return token;
}

function hostAndPort(listen: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new CliError(`--listen must be host:port, not "${listen}"`, EXIT.usage);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export async function codecServer(options: CodecServerCliOptions, env: NodeJS.ProcessEnv = process.env) {
  const { host, port } = hostAndPort(options.listen);
  if (!env[CODEC_KEYS_ENV]) throw new CliError(`no keys: set ${CODEC_KEYS_ENV} to the payload keys file`, EXIT.usage);
  const codec = await payloadCodecFromEnv(env).catch((err: unknown) => {
    throw err instanceof CodecKeysError ? new CliError(err.message, EXIT.usage) : err;
  });
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
    throw new CliError('--tls-cert and --tls-key go together', EXIT.usage);
  }
  const tls =
    options.tlsCert && options.tlsKey
      ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) }
      : undefined;
  const running = await startCodecServer({
    codec: codec!,
    token: await readToken(env),
    allowedOrigins: options.uiOrigin,
    tls,
    host,
    port,
    log: (line) => console.error(line),
  });
  console.log(`codec server on ${running.url} (POST /encode, /decode; CORS for ${options.uiOrigin.join(', ')})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return EXIT.ok;
}
