import '@polkadot/api-augment';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WsProvider, type ApiPromise } from '@polkadot/api';
import { hexToString, hexToU8a, u8aToHex } from '@polkadot/util';
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../../devnet/polkadot/index.js';
import {
  isOwnershipProofValid,
  keyPair,
  sessionKeyLayout,
  type SessionKeyField,
} from '../../../../devnet/polkadot/session-keys.js';
import { polkadotValidatorCounters } from '../../../../src/polkadot/validator-counters.js';
import { connect, submitUntilFinalized, waitFor } from '../../../helpers/polkadot-devnet.js';

const SESSION_LENGTH = 10;
/** Node processes start slowly on a loaded two-core machine (tsx + metadata); waits are on conditions. */
const NODE_TEST_TIMEOUT_MS = 300_000;
const SLOTS_TIMEOUT_MS = 150_000;

describe('simulated polkadot node processes', () => {
  let devnet: PolkadotDevnet;
  let layout: SessionKeyField[];
  const dirs: string[] = [];
  const apis: ApiPromise[] = [];

  const baseDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'polkadot-sim-'));
    dirs.push(dir);
    return dir;
  };
  const connectTo = async (url: string) => {
    const api = await connect(url);
    apis.push(api);
    return api;
  };
  /** Puts a dev validator's session keys (derived from //Name) into a node's keystore. */
  const insertDevKeys = async (api: ApiPromise, name: string) => {
    for (const field of layout) {
      const publicKey = u8aToHex(keyPair(field.crypto, `//${name}`).publicKey);
      await api.rpc.author.insertKey(field.keyType, `//${name}`, publicKey);
    }
  };

  beforeAll(async () => {
    devnet = await startPolkadotDevnet({
      sessionLength: SESSION_LENGTH,
      blockTimeMs: 100,
      validators: ['Alice', 'Bob', 'Charlie', 'Dave'],
      // Generous on a loaded machine: a slot counts as missed only if no signature arrived within 8 s.
      signatureGraceSlots: 80,
    });
    layout = sessionKeyLayout(devnet.relay.runtime);
  });

  afterAll(async () => {
    await Promise.all(apis.map((api) => api.disconnect()));
    await devnet?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it(
    'generates keys with an ownership proof, keeps them across restarts, never returns secrets, signs once active',
    async () => {
      const basePath = await baseDir();
      const stash = devnet.stash('Dave');
      let node = await devnet.startNode({ basePath, version: '1.2.3' });
      let api = await connectTo(node.url);
      expect((await api.rpc.system.version()).toString()).toBe('1.2.3');
      // Chain RPCs are answered too (the node forwards them to its chain), so ApiPromise works against it.
      expect(api.genesisHash.toHex()).toBe(devnet.relay.genesisHash);

      // polkadot-js 16.5.6 does not decorate author_rotateKeysWithOwner, so it is sent raw.
      const provider = new WsProvider(node.url, false);
      await provider.connect();
      await provider.isReady;
      const generated = await provider
        .send<{ keys: string; proof: string }>('author_rotateKeysWithOwner', [u8aToHex(stash.publicKey)])
        .finally(() => provider.disconnect());
      expect(hexToU8a(generated.keys)).toHaveLength(193);
      expect(isOwnershipProofValid(layout, hexToU8a(generated.keys), hexToU8a(generated.proof), stash.publicKey)).toBe(
        true,
      );
      const other = devnet.stash('Alice').publicKey;
      expect(isOwnershipProofValid(layout, hexToU8a(generated.keys), hexToU8a(generated.proof), other)).toBe(false);
      expect((await api.rpc.author.hasSessionKeys(generated.keys)).isTrue).toBe(true);
      const babe = generated.keys.slice(2 + 64, 2 + 128);
      expect((await api.rpc.author.hasKey(`0x${babe}`, 'babe')).isTrue).toBe(true);
      expect((await api.rpc.author.hasKey(`0x${babe}`, 'gran')).isTrue).toBe(false);
      const plain = await api.rpc.author.rotateKeys();
      expect(plain.toU8a(true)).toHaveLength(193);
      expect((await api.rpc.author.hasSessionKeys(plain)).isTrue).toBe(true);

      const keystore = path.join(basePath, 'chains', 'polkadot', 'keystore');
      const files = await readdir(keystore);
      expect(files).toHaveLength(2 * layout.length);
      for (const file of files) {
        expect((await stat(path.join(keystore, file))).mode & 0o777).toBe(0o600);
        const secret = JSON.parse(await readFile(path.join(keystore, file), 'utf8')) as string;
        expect(JSON.stringify(generated)).not.toContain(secret);
      }

      await api.disconnect();
      await node.stop();
      node = await devnet.startNode({ basePath, version: '1.2.4' });
      api = await connectTo(node.url);
      expect((await api.rpc.system.version()).toString()).toBe('1.2.4');
      expect((await api.rpc.author.hasSessionKeys(generated.keys)).isTrue).toBe(true);

      // The generated keys and proof are accepted on chain, submitted through the node's own RPC.
      const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(generated.keys, generated.proof), stash);
      expect(finalized.events.map(({ event }) => event.method)).toContain('ExtrinsicSuccess');

      // The node signs for Dave once the keys are active (session S+2), and not before.
      const s = (await (await api.at(finalized.status.asFinalized)).query.session.currentIndex()).toNumber();
      const activeFrom = devnet.relay.blockAt(0)!.slot + (s + 2) * SESSION_LENGTH;
      await waitFor(
        'settled slots with the new keys',
        () => devnet.counters(stash.address, activeFrom).expected >= 5,
        SLOTS_TIMEOUT_MS,
      );
      const withNewKeys = devnet.counters(stash.address, activeFrom);
      expect(withNewKeys.signed).toBe(withNewKeys.expected);
      expect(devnet.counters(stash.address).signed).toBe(withNewKeys.signed);
      expect(withNewKeys.signers).toEqual([(await api.rpc.system.localPeerId()).toString()]);
      await api.disconnect();
      await node.stop();
    },
    NODE_TEST_TIMEOUT_MS,
  );

  it(
    'reports syncing for its sync delay, then healthy',
    async () => {
      // The node counts its delay from its own start, which is after `spawnedAt`: an answer that came within the
      // delay of it must say syncing. Connecting can take longer than the delay on a loaded machine (a run saw
      // it), and then the first answer may rightly be healthy; the delay is long enough that it rarely does.
      const syncDelayMs = 4_000;
      const spawnedAt = Date.now();
      const node = await devnet.startNode({ basePath: await baseDir(), syncDelayMs });
      const api = await connectTo(node.url);
      const first = await api.rpc.system.health();
      if (Date.now() - spawnedAt < syncDelayMs) expect(first.isSyncing.isTrue).toBe(true);
      await waitFor('sync to finish', async () => (await api.rpc.system.health()).isSyncing.isFalse);
      const state = await api.rpc.system.syncState();
      expect(state.currentBlock.toNumber()).toBe(state.highestBlock.unwrap().toNumber());
      await api.disconnect();
      await node.stop();
    },
    NODE_TEST_TIMEOUT_MS,
  );

  it(
    'one node with the active keys: signs every slot, no missed slots, no equivocation',
    async () => {
      const node = await devnet.startNode({ basePath: await baseDir() });
      await insertDevKeys(await connectTo(node.url), 'Alice');
      const alice = devnet.stash('Alice').address;
      await waitFor('Alice to sign', () => devnet.counters(alice).signed > 0, SLOTS_TIMEOUT_MS);
      const from = devnet.relay.best.slot + 1;
      await waitFor('20 settled slots', () => devnet.counters(alice, from).expected >= 20, SLOTS_TIMEOUT_MS);
      const counters = devnet.counters(alice, from);
      expect(counters.missed).toBe(0);
      expect(counters.equivocations).toBe(0);
      expect(counters.signers).toHaveLength(1);
    },
    NODE_TEST_TIMEOUT_MS,
  );

  it(
    'two nodes with the same keys: equivocations are counted',
    async () => {
      const first = await devnet.startNode({ basePath: await baseDir() });
      const second = await devnet.startNode({ basePath: await baseDir() });
      await insertDevKeys(await connectTo(first.url), 'Bob');
      await insertDevKeys(await connectTo(second.url), 'Bob');
      const bob = devnet.stash('Bob').address;
      await waitFor('equivocations', () => devnet.counters(bob).equivocations >= 3, SLOTS_TIMEOUT_MS);
      expect(devnet.counters(bob).signers).toHaveLength(2);

      // The chain records each as pallet-offences does: read back with a real client and with the product's reader.
      const api = await connectTo(devnet.relayUrl);
      await waitFor('offence reports', async () => (await api.query.offences.reports.entries()).length >= 3, 30_000);
      const reports = await api.query.offences.reports.entries();
      const offenders = reports.map(([, details]) => details.unwrap().offender[0].toString());
      expect(new Set(offenders)).toEqual(new Set([bob]));
      const [reportId] = reports[0]![0].args;
      const kinds = await api.query.offences.concurrentReportsIndex.entries();
      expect(kinds.flatMap(([, ids]) => ids.toJSON() as string[])).toContain(reportId.toHex());
      expect(kinds.map(([key]) => hexToString(key.args[0].toHex()))).toEqual(
        expect.arrayContaining(['babe:equivocatio']),
      );
      const reading = await polkadotValidatorCounters(devnet.relayUrl, bob);
      expect(reading?.doubleSigns).toBeGreaterThanOrEqual(reports.length);
      expect((await polkadotValidatorCounters(devnet.relayUrl, devnet.stash('Alice').address))?.doubleSigns).toBe(0);
    },
    NODE_TEST_TIMEOUT_MS,
  );

  it(
    'no node for a validator: its slots are missed',
    async () => {
      const charlie = devnet.stash('Charlie').address;
      await waitFor('settled slots', () => devnet.counters(charlie).expected >= 5, SLOTS_TIMEOUT_MS);
      const counters = devnet.counters(charlie);
      expect(counters.signed).toBe(0);
      expect(counters.missed).toBe(counters.expected);

      // The same record over the network endpoint, for tools outside this process (the demo).
      const network = new WsProvider(devnet.networkUrl, false);
      await network.connect();
      await network.isReady;
      const remote = await network
        .send<{ expected: number; missed: number }>('devnet_counters', [charlie])
        .finally(() => network.disconnect());
      expect(remote.expected).toBeGreaterThanOrEqual(counters.expected);
      expect(remote.missed).toBe(remote.expected);
    },
    NODE_TEST_TIMEOUT_MS,
  );
});
