import { polkadotValidatorSwapInput, polkadotValidatorSwapTargets } from '../../../../src/api/polkadot-inputs.js';
import { resolveUpgradeTargets } from '../../../../src/api/upgrade-request.js';
import { MockActivityEnvironment } from '../../../helpers/activity-environment.js';
import { createActivities } from '../../../../activities/index.js';
import { connect, waitFor } from '../../../helpers/polkadot-devnet.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../../../devnet/testbeds/polkadot.js';

describe('Polkadot testbed', () => {
  let bed: PolkadotTestbed;

  beforeAll(async () => {
    bed = await startPolkadotTestbed({ mode: 'relay', sessionLength: 8, blockTimeMs: 200 });
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  }, 60_000);

  it("runs val-a's node as a service that holds the genesis keys and signs for the validator", async () => {
    expect(bed.isRunning('val-a')).toBe(true);
    expect(bed.isRunning('val-b')).toBe(false);
    const api = await connect(bed.nodes['val-a']!.rpcUrl);
    try {
      expect((await api.rpc.author.hasSessionKeys(bed.validator.genesisKeys)).isTrue).toBe(true);
      const startSlot = (await api.query.babe.currentSlot()).toNumber();
      await waitFor('a signed slot', () => bed.counters(startSlot).signed > 3, 60_000);
      expect(bed.counters(startSlot).equivocations).toBe(0);
    } finally {
      await api.disconnect();
    }
  }, 120_000);

  it('stages two different binaries and gives a swap input the workflow schema accepts, resolved from its inventory', () => {
    expect(bed.binaries.old.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bed.binaries.new.sha256).not.toBe(bed.binaries.old.sha256);
    const { input, inventory } = bed.swapUpgrade();
    expect(polkadotValidatorSwapInput.safeParse(input).error).toBeUndefined();
    const targets = resolveUpgradeTargets(inventory, 'polkadotValidatorSwapUpgrade', input);
    const parsed = polkadotValidatorSwapTargets.safeParse(targets);
    expect(parsed.error).toBeUndefined();
    expect(parsed.data).toEqual(polkadotValidatorSwapTargets.parse(bed.swapTargets()));
    expect(parsed.data?.setKeys).toMatchObject({
      submitTo: 'relay',
      signedBy: { type: 'proxy', proxyType: 'Staking' },
    });
    expect(bed.currentSlot()).toBeGreaterThan(0);
  });

  it('host activities stop val-a, install the new binary and start it again, which then reports the new version', async () => {
    const activities = createActivities({ connections: bed.connections });
    const run = <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
      new MockActivityEnvironment().execute(activity, ...args);
    const a = bed.nodes['val-a']!;
    await run(activities.stopService, { host: a.ref.host, service: a.service });
    expect(bed.isRunning('val-a')).toBe(false);
    const down = await run(activities.lookPolkadotNodeSynced, { nodeRpcUrl: a.rpcUrl, networkRpcUrl: bed.relayUrl });
    expect(down.reached).toBe(false);
    await run(activities.installBinary, {
      host: a.ref.host,
      source: bed.binaries.new.staged('val-a'),
      destination: a.binary,
      sha256: bed.binaries.new.sha256,
    });
    await run(activities.startService, { host: a.ref.host, service: a.service });
    const health = await waitFor('val-a back on the new binary', async () => {
      const look = await run(activities.lookPolkadotNodeSynced, { nodeRpcUrl: a.rpcUrl, networkRpcUrl: bed.relayUrl });
      return look.reached && look.value;
    });
    expect(health.version).toBe(bed.binaries.new.version);
    const api = await connect(a.rpcUrl);
    try {
      expect((await api.rpc.author.hasSessionKeys(bed.validator.genesisKeys)).isTrue).toBe(true);
    } finally {
      await api.disconnect();
    }
  }, 120_000);
});
