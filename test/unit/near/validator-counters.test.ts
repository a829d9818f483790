/**
 * src/near/validator-counters.ts against the local NEAR network over its JSON-RPC: a validator with no node
 * misses every height it is assigned, and the reading gives `num_expected − num_produced` of RPC `validators`
 * for the current epoch and the previous one's final counts; the double signs the devnet recorded come from
 * its `devnet_counters`, and an RPC without that method gives none.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonRpcProvider, KeyPair } from 'near-api-js';
import { NO_PERFORMANCE_KICKOUTS, ONE_NEAR, startNearDevnet, type NearDevnet } from '../../../devnet/near/index.js';
import { nearValidatorCounters } from '../../../src/near/validator-counters.js';

const DOWN = 'down.near';
const downKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
let devnet: NearDevnet;
let provider: JsonRpcProvider;

beforeAll(async () => {
  devnet = await startNearDevnet({
    epochLength: 10,
    blockTimeMs: 50,
    // Its validators run no node for some epochs on purpose; nearcore would kick them out.
    ...NO_PERFORMANCE_KICKOUTS,
    signatureGraceMs: 100,
    validators: [{ accountId: DOWN, stakePublicKey: downKey, stake: 100n * ONE_NEAR }],
    devnetValidators: [{ accountId: 'other.near', stake: 300n * ONE_NEAR }],
  });
  provider = new JsonRpcProvider({ url: devnet.rpcUrl }, { retries: 1 });
  await devnet.waitForHeight(36);
  // Hold the chain still, once the grace period of the last heights is over, so every RPC sees the same counts.
  await new Promise((r) => setTimeout(r, 300));
  devnet.chain.stop();
});
afterAll(async () => {
  await devnet?.stop();
});

it('reads the missed blocks and chunks of the current and the previous epoch from RPC validators', async () => {
  const reading = await nearValidatorCounters(devnet.rpcUrl, DOWN);
  const now = await provider.viewValidators();
  const before = await provider.viewValidators({ blockId: now.epoch_start_height - 1 });
  const entry = (view: typeof now) => view.current_validators.find((v) => v.account_id === DOWN)!;
  // No node signs for the account: it produced nothing it was expected to.
  expect(entry(before).num_expected_blocks).toBeGreaterThan(0);
  expect(entry(before).num_produced_blocks).toBe(0);
  expect(reading).toMatchObject({
    period: now.epoch_height,
    missed: { blocks: entry(now).num_expected_blocks, chunks: entry(now).num_expected_chunks },
    previous: {
      period: before.epoch_height,
      missed: { blocks: entry(before).num_expected_blocks, chunks: entry(before).num_expected_chunks },
    },
    doubleSigns: 0,
  });
  // What the devnet's own ledger counted over the two epochs.
  const total = devnet.counters(DOWN);
  const lastTwo = total.missedBlockHeights.filter((h) => h >= before.epoch_start_height).length;
  expect(reading!.missed.blocks! + reading!.previous!.missed.blocks!).toBe(lastTwo);
});

it('counts the double signs the devnet recorded for the account', async () => {
  const height = devnet.chain.head().height;
  for (const instanceId of ['node-a', 'node-b'])
    devnet.chain.ledger.record({
      height,
      accountId: DOWN,
      publicKey: downKey,
      instanceId,
      nodePublicKey: `ed25519:${instanceId}`,
      block: true,
      chunk: true,
      protocolVersion: 73,
    });
  expect(devnet.counters(DOWN).doubleSignHeights).toEqual([height]);
  expect((await nearValidatorCounters(devnet.rpcUrl, DOWN))?.doubleSigns).toBe(1);
});

it('reports no double signs from an RPC that has no devnet_counters (nearcore), asking it once, and nothing from one that is down', async () => {
  // A proxy that answers devnet_counters as nearcore answers an unknown method.
  let askedForDevnetCounters = 0;
  const proxy: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as { id: string; method: string };
      if (call.method === 'devnet_counters') {
        askedForDevnetCounters++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32601, message: 'Method not found' } }));
        return;
      }
      void fetch(devnet.rpcUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
        .then((r) => r.text())
        .then((text) => {
          res.setHeader('Content-Type', 'application/json');
          res.end(text);
        });
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const reading = await nearValidatorCounters(url, DOWN);
    expect(reading!.missed.blocks! + reading!.previous!.missed.blocks!).toBeGreaterThan(0);
    expect(reading).not.toHaveProperty('doubleSigns');
    expect(reading?.source).toBe('RPC validators');
    // Asked once: a node that has no such method is not asked again on every reading.
    expect((await nearValidatorCounters(url, DOWN))?.source).toBe('RPC validators');
    expect(askedForDevnetCounters).toBe(1);
  } finally {
    await new Promise((r) => proxy.close(r));
  }
  expect(await nearValidatorCounters('http://127.0.0.1:9', DOWN)).toBeUndefined();
});
