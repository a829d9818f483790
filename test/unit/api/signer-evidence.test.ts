/**
 * The judgement of "nobody else signs with this key": only positive evidence is safe. A node that does not
 * answer is safe only when its host shows nothing running with its home; whatever cannot be read is unknown.
 */
import {
  judgeSigner,
  keystoreEntriesHolding,
  knownHomesOnMachine,
  type SignerObservation,
} from '../../../src/api/signer-evidence.js';

const silent = { answered: false as const, error: 'connect ECONNREFUSED 127.0.0.1:3030' };
const seen = (over: Partial<SignerObservation>): SignerObservation => ({
  node: 'neard on val-a',
  rpc: silent,
  running: [],
  otherHolders: [],
  unreadable: [],
  window: '3 looks over 0.6 s',
  ...over,
});

describe('judgeSigner', () => {
  it('calls a node stopped only when it does not answer and nothing on its host runs with its home', () => {
    const v = judgeSigner(seen({}), 'stopped');
    expect(v.verdict).toBe('safe');
    expect(v.because).toContain('3 looks over 0.6 s');
  });

  it('does not take silence for a stop: a process with its home, or holding its database, is running', () => {
    const running = seen({ running: ['pid 42 runs with this home'] });
    expect(judgeSigner(running, 'stopped')).toMatchObject({ verdict: 'unsafe' });
    expect(judgeSigner(running, 'stopped').because).toContain('pid 42');
    // Running and silent: which key it signs with cannot be told, so neither safe nor a refusal for good.
    expect(judgeSigner(running, 'not-signing').verdict).toBe('unknown');
  });

  it('takes an answer that names no key or another key as evidence that the node does not sign with it', () => {
    const answers = seen({ rpc: { answered: true, holdsKey: false, says: 'runs with no validator key' } });
    expect(judgeSigner(answers, 'not-signing').verdict).toBe('safe');
    // ...but a node that answers is not stopped.
    expect(judgeSigner(answers, 'stopped').verdict).toBe('unsafe');
  });

  it('refuses a node that answers with the key, and another process on its host holding it', () => {
    expect(
      judgeSigner(seen({ rpc: { answered: true, holdsKey: true, says: 'runs with ed25519:K' } }), 'not-signing'),
    ).toMatchObject({ verdict: 'unsafe' });
    const rogue = seen({ otherHolders: ['pid 7 runs with home /srv/rogue/.near, which holds it'] });
    expect(judgeSigner(rogue, 'stopped')).toMatchObject({ verdict: 'unsafe' });
    expect(judgeSigner(rogue, 'not-signing').because).toContain('/srv/rogue/.near');
  });

  it('calls what cannot be read unknown, never safe', () => {
    const unreadable = ['pid 9 runs with home /home/other/.near, which cannot be read'];
    expect(judgeSigner(seen({ unreadable }), 'stopped').verdict).toBe('unknown');
    expect(
      judgeSigner(
        seen({ unreadable, rpc: { answered: true, holdsKey: false, says: 'runs with no validator key' } }),
        'not-signing',
      ).verdict,
    ).toBe('unknown');
    expect(
      judgeSigner(
        seen({ rpc: { answered: true, holdsKey: 'unknown', says: 'answers but does not say which keys it holds' } }),
        'not-signing',
      ).verdict,
    ).toBe('unknown');
  });
});

describe('keystoreEntriesHolding', () => {
  it('finds keystore files (<type hex><public key hex>) of the session keys', () => {
    const babe = 'aa'.repeat(32);
    const gran = 'bb'.repeat(32);
    const keys = `0x${babe}${gran}`;
    const names = [`62616265${babe}`, `6772616e${'cc'.repeat(32)}`, 'not-a-key', ''];
    expect(keystoreEntriesHolding(names, keys)).toEqual([`62616265${babe}`]);
    expect(keystoreEntriesHolding([`6772616e${gran.toUpperCase()}`], keys)).toHaveLength(1);
  });
});

describe('knownHomesOnMachine', () => {
  it('excuses a known holder only on its own machine: the same home path elsewhere is someone else', () => {
    const known = [
      { address: '10.0.0.1', home: '/home/near/.near' },
      { address: '10.0.0.2', home: '/srv/standby/.near' },
    ];
    expect(knownHomesOnMachine({ address: '10.0.0.2' }, known)).toEqual(['/srv/standby/.near']);
    expect(knownHomesOnMachine({ address: '10.0.0.3' }, known)).toEqual([]);
  });
});
