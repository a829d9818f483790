/**
 * An HTTP relay in front of a NEAR JSON-RPC that passes every request through and records its method, so a
 * test or the bench counts what a set of calls cost at the wire.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingRelay {
  url: string;
  /** Every method passed on, in order (clear it with `calls.length = 0`). */
  calls: string[];
  close(): Promise<void>;
}

export async function startCountingRelay(upstreamUrl: string): Promise<CountingRelay> {
  const calls: string[] = [];
  const relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      calls.push((JSON.parse(body) as { method: string }).method);
      void fetch(upstreamUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then(
        async (answer) => res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(await answer.text()),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => relay.close(() => resolve())),
  };
}
