import { polkadotValidatorSwapInput } from '../../../src/api/polkadot-inputs.js';
import { connect, waitFor } from '../../helpers/polkadot-devnet.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../helpers/polkadot-testbed.js';

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

  it('stages two different binaries and gives a swap input the workflow schema accepts', () => {
    expect(bed.binaries.old.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bed.binaries.new.sha256).not.toBe(bed.binaries.old.sha256);
    const parsed = polkadotValidatorSwapInput.safeParse(bed.swapInput());
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.setKeys).toMatchObject({
      submitTo: 'relay',
      signedBy: { type: 'proxy', proxyType: 'Staking' },
    });
    expect(bed.currentSlot()).toBeGreaterThan(0);
  });
});
