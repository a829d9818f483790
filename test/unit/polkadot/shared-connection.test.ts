/**
 * One connection per Polkadot endpoint, counted at the wire (a relay in front of the local network's RPC):
 * many looks at once open one socket; a node restart between looks, or under a read in flight, is survived;
 * an endpoint that refuses is not kept; shutdown closes what is open; reads the same for every stash are joined.
 */
import { randomBytes } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';
import { startCountingWsRelay } from '../../../devnet/polkadot/counting-relay.js';
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../devnet/polkadot/index.js';
import { closeSharedConnections, sharedConnectionCount, withSharedApi } from '../../../src/polkadot/connection.js';
import { PolkadotError } from '../../../src/polkadot/errors.js';
import { networkHealth } from '../../../src/polkadot/node.js';
import { keysStanding, sessionInfo } from '../../../src/polkadot/session.js';
import { polkadotValidatorCounters } from '../../../src/polkadot/validator-counters.js';
import { startPolkadotRpcRelay, type PolkadotRpcRelay } from '../../helpers/polkadot-rpc-relay.js';

let devnet: PolkadotDevnet;
let relay: PolkadotRpcRelay;

beforeAll(async () => {
  devnet = await startPolkadotDevnet({ mode: 'relay', sessionLength: 6, blockTimeMs: 150, validators: ['Alice'] });
  relay = await startPolkadotRpcRelay(devnet.relayUrl);
}, 60_000);

afterAll(async () => {
  await closeSharedConnections();
  await relay?.close();
  await devnet?.stop();
}, 30_000);

/** What one look of a keys-active wait reads from the relay chain. */
async function look(url: string) {
  const stash = devnet.stash('Alice').address;
  const [session, health, counters] = await Promise.all([
    withSharedApi(url, sessionInfo),
    networkHealth(url),
    polkadotValidatorCounters(url, stash),
  ]);
  const standing = await withSharedApi(url, async (api) =>
    keysStanding(api, stash, (await api.query.session.nextKeys(stash)).toHex()),
  );
  return { session, health, counters, standing };
}

it('50 looks at once at one endpoint open one socket', async () => {
  const before = relay.connections;
  const looks = await Promise.all(Array.from({ length: 50 }, () => look(relay.url)));
  expect(looks.every((l) => l.session.sessionLengthSlots === 6 && l.health.bestBlock > 0)).toBe(true);
  expect(looks.every((l) => l.counters !== undefined && l.standing.stage === 'active')).toBe(true);
  expect(relay.connections - before).toBe(1);
  expect(sharedConnectionCount()).toBe(1);
}, 60_000);

it('the counters of 40 stashes read at once read what is the same for every stash once: offence reports, methods', async () => {
  const counting = await startCountingWsRelay(devnet.relayUrl);
  try {
    const stashes = Array.from({ length: 40 }, () => encodeAddress(randomBytes(32), 42));
    await withSharedApi(counting.url, () => Promise.resolve());
    counting.calls.length = 0;
    const counters = await Promise.all(stashes.map((stash) => polkadotValidatorCounters(counting.url, stash)));
    expect(counters.every((c) => c?.doubleSigns === 0)).toBe(true);
    const calls = (method: string) => counting.calls.filter((m) => m === method).length;
    expect(calls('state_getKeysPaged')).toBe(1);
    expect(calls('rpc_methods')).toBe(1);
    // Per stash by nature, and the devnet's own method: one each.
    expect(calls('devnet_counters')).toBe(40);
  } finally {
    await counting.close();
  }
}, 60_000);

it('survives a node restart between looks: the next look opens one fresh socket', async () => {
  await look(relay.url);
  const before = relay.connections;
  await relay.restart(500);
  const looks = await Promise.all(Array.from({ length: 10 }, () => look(relay.url)));
  expect(looks).toHaveLength(10);
  expect(relay.connections - before).toBe(1);
}, 60_000);

it('survives a node restart under a read in flight: later reads wait for the reconnect', async () => {
  await look(relay.url);
  let release!: () => void;
  const held = withSharedApi(relay.url, () => new Promise<void>((resolve) => (release = resolve)));
  const before = relay.connections;
  await relay.restart(1_500);
  const after = await look(relay.url);
  release();
  await held;
  expect(after.session.sessionLengthSlots).toBe(6);
  expect(relay.connections - before).toBe(1);
  expect(sharedConnectionCount()).toBe(1);
}, 60_000);

it('does not keep a connection that was refused, and shutdown closes the rest', async () => {
  const closedUrl = 'ws://127.0.0.1:9';
  const error = await withSharedApi(closedUrl, sessionInfo, { connectTimeoutMs: 10_000 }).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(PolkadotError);
  expect(error).toMatchObject({ type: 'RpcUnavailable' });
  expect((error as Error).message).toContain(closedUrl);
  await look(relay.url);
  expect(sharedConnectionCount()).toBe(1);
  await closeSharedConnections();
  expect(sharedConnectionCount()).toBe(0);
}, 60_000);
