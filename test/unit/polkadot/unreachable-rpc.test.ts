/**
 * An RPC nobody listens on is reported in words: polkadot-js rejects with a WebSocket ErrorEvent, not an
 * Error, and its String() was "[object Object]" in the message on-call engineers read.
 */
import { freePort } from '../../../devnet/ports.js';
import { withApi, withProvider } from '../../../src/polkadot/connection.js';
import { PolkadotError } from '../../../src/polkadot/errors.js';

describe('an unreachable Polkadot RPC', () => {
  let url: string;
  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
  });

  const refusals = [
    ['withApi', () => withApi(url, () => Promise.resolve(1), { connectTimeoutMs: 10_000 })],
    ['withProvider', () => withProvider(url, () => Promise.resolve(1), { connectTimeoutMs: 10_000 })],
  ] as const;

  it.each(refusals)('%s names the refused connection, never [object Object]', async (_, call) => {
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PolkadotError);
    const { type, message } = err as PolkadotError;
    expect(type).toBe('RpcUnavailable');
    expect(message).not.toMatch(/\[object \w+\]/);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).toContain(url);
  });
});
