/**
 * The epoch bookkeeping on its own, block by block: which set is current, next and decided, NEAR's epoch ids,
 * the last proposal winning, and unstaking.
 */
import { EpochManager, type ValidatorStake } from '../../../../devnet/near/epochs.js';

const v = (accountId: string, publicKey: string, stake = 100n): ValidatorStake => ({ accountId, publicKey, stake });

/** Runs an EpochManager over heights 1..n with block hashes "h<height>", as the chain does. */
function advanceTo(epochs: EpochManager, from: number, to: number): void {
  for (let height = from; height <= to; height++) {
    if (epochs.startsEpoch(height)) epochs.advance(height, `h${height - 1}`);
  }
}

describe('EpochManager', () => {
  const L = 10;

  it('uses the last proposal of epoch T from T+2 and keeps validators without proposals', () => {
    const epochs = new EpochManager(L, 1, 'genesis', [v('a', 'ka'), v('b', 'kb')], 73);
    advanceTo(epochs, 2, 15); // in epoch index 1 (heights 11..20)
    epochs.propose(v('a', 'ka-first'));
    epochs.propose(v('a', 'ka-second'));
    expect(epochs.nextValidators().find((x) => x.accountId === 'a')?.publicKey).toBe('ka');

    advanceTo(epochs, 16, 21); // index 2 starts at 21
    expect(epochs.current().validators.find((x) => x.accountId === 'a')?.publicKey).toBe('ka');
    expect(epochs.nextValidators().find((x) => x.accountId === 'a')?.publicKey).toBe('ka-second');

    advanceTo(epochs, 22, 31); // index 3 starts at 31
    expect(epochs.current().validators.map((x) => [x.accountId, x.publicKey])).toEqual([
      ['a', 'ka-second'],
      ['b', 'kb'],
    ]);
    expect(epochs.epochOfHeight(30)?.validators.find((x) => x.accountId === 'a')?.publicKey).toBe('ka');
  });

  it('names epochs like nearcore: zero hash, genesis hash, then the last block of T-2', () => {
    const epochs = new EpochManager(L, 1, 'genesis', [v('a', 'ka')], 73);
    expect(epochs.current().id).toBe('11111111111111111111111111111111');
    expect(epochs.nextEpochId()).toBe('genesis');
    advanceTo(epochs, 2, 11);
    expect(epochs.current().id).toBe('genesis');
    expect(epochs.nextEpochId()).toBe('h10');
    advanceTo(epochs, 12, 21);
    expect(epochs.current().id).toBe('h10');
    expect(epochs.current().startHeight).toBe(21);
  });

  it('drops a validator that unstakes at T+2 and reports it as kicked out in T+1', () => {
    const epochs = new EpochManager(L, 1, 'genesis', [v('a', 'ka'), v('b', 'kb')], 73);
    epochs.propose(v('b', 'kb', 0n));
    advanceTo(epochs, 2, 11);
    expect(epochs.current().kickouts).toEqual([{ account_id: 'b', reason: 'Unstaked' }]);
    expect(epochs.current().validators.map((x) => x.accountId)).toEqual(['a', 'b']);
    expect(epochs.nextValidators().map((x) => x.accountId)).toEqual(['a']);
    advanceTo(epochs, 12, 21);
    expect(epochs.current().validators.map((x) => x.accountId)).toEqual(['a']);
  });
});
