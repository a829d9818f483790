/**
 * Ports for the local servers the networks, hosts and tests start. A port is chosen at random below the
 * kernel's ephemeral range and checked free: a port the OS hands out for `listen(0)` is one it may hand out
 * again a moment later, to an outgoing connection or to another server picking its own (the Temporal dev
 * server does so for its internal services), and the server meant for it then fails with "address already in
 * use". Below the ephemeral range only an explicit bind takes a port.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether 127.0.0.1:`port` can be bound right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Ports this process handed out already: not handed out twice, even if not bound yet. */
const given = new Set<number>();

/** A TCP port on 127.0.0.1 that is free now, below the ephemeral range. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    if (given.has(port) || !(await portIsFree(port))) continue;
    given.add(port);
    return port;
  }
  throw new Error(`no free TCP port between ${LOWEST} and ${high}`);
}
