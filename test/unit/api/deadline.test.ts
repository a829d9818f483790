/** projectUpgrade: a single upgrade's projected finish against its deadline (src/api/deadline.ts). */
import { projectUpgrade, type ChainPace } from '../../../src/api/deadline.js';
import { nearStopAndRestartInput } from '../../../src/api/near-inputs.js';

const epochs: ChainPace = { chain: 'near', network: 'mainnet', periodMs: 3600_000, source: 'epoch of 1 h' };
const t0 = Date.parse('2026-12-06T00:00:00Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

describe('projectUpgrade', () => {
  it('projects the start plus the strategy’s periods at the network’s pace', () => {
    // Zero-downtime waits about 3 epochs.
    const onTime = projectUpgrade('nearZeroDowntimeUpgrade', epochs, at(4 * 3600_000), t0, t0);
    expect(onTime).toMatchObject({ behind: false, projectedFinish: at(3 * 3600_000) });
    expect(onTime.basis).toBe('about 180 min for nearZeroDowntimeUpgrade (epoch of 1 h)');
    expect(projectUpgrade('nearZeroDowntimeUpgrade', epochs, at(2 * 3600_000), t0, t0).behind).toBe(true);
  });

  it('never projects a running upgrade earlier than now, and is behind once past the deadline', () => {
    const late = projectUpgrade('nearStopAndRestartUpgrade', undefined, at(3600_000), t0, t0 + 2 * 3600_000);
    expect(late).toMatchObject({ behind: true, projectedFinish: at(2 * 3600_000) });
  });

  it('leaves the finish unknown without a pace where the strategy waits for the chain', () => {
    const unknown = projectUpgrade('polkadotValidatorSwapUpgrade', undefined, at(3600_000), t0, t0);
    expect(unknown.projectedFinish).toBeUndefined();
    expect(unknown.behind).toBe(false);
    expect(unknown.basis).toBe("the network's pace could not be read");
  });

  it('every input takes a deadline as an ISO time with an offset, and refuses anything else by name', () => {
    const input = { validator: { network: 'mainnet', accountId: 'pool.poolv1.near' } };
    const release = { staged: '/var/tmp/neard', sha256: 'ab'.repeat(32) };
    expect(nearStopAndRestartInput.safeParse({ ...input, release, deadline: '2026-12-20T12:00:00Z' }).success).toBe(
      true,
    );
    const bad = nearStopAndRestartInput.safeParse({ ...input, release, deadline: 'next friday' });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['deadline']);
  });
});
