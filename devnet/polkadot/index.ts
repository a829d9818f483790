/**
 * A local Polkadot-like network for tests and the demo: the relay chain (and, in AHM mode, Asset Hub) as
 * WebSocket JSON-RPC servers driven by real runtime metadata, plus the internal "network" endpoint that
 * simulated validator nodes sign on, with per-validator accounting of missed slots and equivocations.
 *
 * Accounts follow dev-chain conventions: `//Name` is an account (e.g. a proxy), `//Name//stash` the stash of
 * validator Name, and validator Name's genesis session keys are derived from `//Name` (like `--alice`).
 */
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { Accounting, type ValidatorCounters } from './accounting.js';
import { AssetHubRuntime } from './asset-hub-runtime.js';
import { Chain } from './chain.js';
import { chainRpc } from './chain-rpc.js';
import { type RelayChainName, loadRuntime } from './metadata.js';
import { RelayRuntime, type GenesisConfig } from './relay-runtime.js';
import { networkServer, sessionIndexOf } from './network.js';
import { type SimNodeProcess, type SimNodeProcessOptions, startSimNodeProcess } from './node-process.js';
import { RpcServer } from './rpc-server.js';
import { devSessionKeys, sessionKeyLayout } from './session-keys.js';

export interface ProxyGenesis {
  /** Validator name whose stash is the real account. */
  real: string;
  /** Account name of the delegate (`//Name`). */
  delegate: string;
  type: string;
  delay?: number;
}

export interface PolkadotDevnetOptions {
  chain?: RelayChainName;
  /**
   * 'relay': keys are set with relay `session.setKeys` (pre-2.3.2 runtimes). 'ahm': relay `session.setKeys`
   * is filtered and keys go through Asset Hub's `stakingRcClient.setKeys`; staking (validators, proxies)
   * lives on Asset Hub.
   */
  mode?: 'relay' | 'ahm';
  /** Blocks (= slots) per session. */
  sessionLength?: number;
  blockTimeMs?: number;
  finalityLag?: number;
  requireProof?: boolean;
  /**
   * Relay mode: pallet-session's validator id comes from staking (`StashOf`), so `session.setKeys` from an
   * account that is not a bonded stash/controller fails with `Session.NoAssociatedValidatorId` (default true).
   * False: any account is its own validator id (`ConvertInto`, relay runtimes since polkadot-sdk #7953).
   */
  validatorIdFromStaking?: boolean;
  /** Validator names (registered validators on the staking chain); each gets a funded stash `//Name//stash` and genesis session keys from `//Name`. */
  validators?: string[];
  /** Further funded accounts `//Name` (proxies, other signers). Validators' `//Name` are always funded. */
  accounts?: string[];
  /** Staking proxies, registered on the chain where staking lives (relay, or Asset Hub in AHM mode). */
  proxies?: ProxyGenesis[];
  host?: string;
  /** How long (in slots) a node's signature for a slot is still counted; default about 3 s. */
  signatureGraceSlots?: number;
}

export interface PolkadotDevnet {
  relayUrl: string;
  /** Asset Hub's RPC (AHM mode only). */
  assetHubUrl?: string;
  assetHub?: Chain;
  /** Internal endpoint of the simulated nodes (slots, signatures) and of `devnet_counters`. */
  networkUrl: string;
  relay: Chain;
  relayRuntime: RelayRuntime;
  /** `//Name` */
  account(name: string): KeyringPair;
  /** `//Name//stash` */
  stash(name: string): KeyringPair;
  /** Signing record of a validator (by stash address or public key) over settled slots from `fromSlot`. */
  counters(stash: string | Uint8Array, fromSlot?: number): ValidatorCounters;
  /** Starts a simulated node process on this network (stopped by `stop()` unless stopped before). */
  startNode(opts: Omit<SimNodeProcessOptions, 'networkUrl'>): Promise<SimNodeProcess>;
  stop(): Promise<void>;
}

const capitalized = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export async function startPolkadotDevnet(opts: PolkadotDevnetOptions = {}): Promise<PolkadotDevnet> {
  await cryptoWaitReady();
  const chainName = opts.chain ?? 'polkadot';
  const sessionLength = opts.sessionLength ?? 10;
  const blockTimeMs = opts.blockTimeMs ?? 200;
  const ahm = opts.mode === 'ahm';
  const validators = opts.validators ?? ['Alice', 'Bob'];
  const relayRuntimeMeta = loadRuntime(chainName, {
    timing: { sessionLength, blockTimeMs },
    // Relay runtimes from 2.3.2 (2_003_002) filter session.set_keys; clients detect the path by version.
    ...(ahm ? { specVersion: 2_003_002 } : {}),
  });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: relayRuntimeMeta.properties.ss58Format });
  const pairs = new Map<string, KeyringPair>();
  const pair = (suri: string) => pairs.get(suri) ?? pairs.set(suri, keyring.addFromUri(suri)).get(suri)!;
  const account = (name: string) => pair(`//${capitalized(name)}`);
  const stash = (name: string) => pair(`//${capitalized(name)}//stash`);

  const layout = sessionKeyLayout(relayRuntimeMeta);
  const accountNames = [
    ...new Set([...validators, ...(opts.accounts ?? []), ...(opts.proxies ?? []).map((p) => p.delegate)]),
  ];
  const proxiesByReal = new Map<string, GenesisConfig['proxies'][number]>();
  for (const p of opts.proxies ?? []) {
    const real = stash(p.real).publicKey;
    const entry = proxiesByReal.get(p.real) ?? { real, definitions: [] };
    entry.definitions.push({ delegate: account(p.delegate).publicKey, proxyType: p.type, delay: p.delay ?? 0 });
    proxiesByReal.set(p.real, entry);
  }
  const genesis: GenesisConfig = {
    accounts: [...accountNames.map((n) => account(n).publicKey), ...validators.map((n) => stash(n).publicKey)],
    validators: validators.map((n) => ({
      stash: stash(n).publicKey,
      sessionKeys: devSessionKeys(layout, `//${capitalized(n)}`),
    })),
    proxies: [...proxiesByReal.values()],
  };

  const requireProof = opts.requireProof ?? true;
  const relayRuntime = new RelayRuntime(
    relayRuntimeMeta,
    { sessionLength, requireProof, ahm, validatorIdFromStaking: opts.validatorIdFromStaking ?? true },
    ahm ? { ...genesis, proxies: [] } : genesis,
  );
  const relay = new Chain(relayRuntime, { blockTimeMs, finalityLag: opts.finalityLag ?? 2 });
  relay.setMaxListeners(0);
  // Each equivocation the signatures show becomes the offence report the chain records for it.
  const accounting = new Accounting(
    layout,
    opts.signatureGraceSlots ?? Math.max(5, Math.ceil(3_000 / blockTimeMs)),
    ({ slot, stash, keyType }) =>
      relayRuntime.reportOffence({
        offender: hexToU8a(stash),
        kind: keyType === 'babe' ? 'babe' : 'grandpa',
        slot,
        setId: sessionIndexOf(relay, relay.best),
      }),
  );
  const relayRpc = chainRpc(relay);
  // The devnet's counters on the relay RPC too, where the activities read what the chain counted for a stash.
  relayRpc.methods.devnet_counters = ([stash, fromSlot]) =>
    accounting.counters(
      decodeAddress(typeof stash === 'string' ? stash : ''),
      typeof fromSlot === 'number' ? fromSlot : 0,
    );
  const relayServer = new RpcServer({ host: opts.host, ...relayRpc });
  const network = networkServer({
    relay,
    relayRuntime,
    accounting,
    host: opts.host,
    info: () => ({ chain: chainName, relayRpcUrl: relayUrl, genesisHash: relay.genesisHash, blockTimeMs }),
  });
  let assetHub: Chain | undefined;
  let assetHubServer: RpcServer | undefined;
  if (ahm) {
    const assetHubRuntime = new AssetHubRuntime(
      loadRuntime(chainName === 'polkadot' ? 'asset-hub-polkadot' : 'asset-hub-kusama'),
      relayRuntime,
      { requireProof },
      genesis,
    );
    assetHub = new Chain(assetHubRuntime, { blockTimeMs, finalityLag: opts.finalityLag ?? 2 });
    assetHub.setMaxListeners(0);
    assetHubServer = new RpcServer({ host: opts.host, ...chainRpc(assetHub) });
  }
  const nodes = new Set<SimNodeProcess>();
  const stop = async () => {
    await Promise.all([...nodes].map((n) => n.stop()));
    relay.stop();
    assetHub?.stop();
    await Promise.all([network.close(), relayServer.close(), assetHubServer?.close()]);
  };

  let relayUrl = '';
  let networkUrl = '';
  let assetHubUrl: string | undefined;
  try {
    relayUrl = await relayServer.listen();
    networkUrl = await network.listen();
    assetHubUrl = await assetHubServer?.listen();
  } catch (error) {
    await stop();
    throw error;
  }
  // Registered before any node subscribes, so a slot is open before nodes hear of it.
  relay.on('block', (block) =>
    accounting.onSlot(block.slot, relayRuntime.activeValidators(sessionIndexOf(relay, block))),
  );
  assetHub?.start();
  relay.start();

  return {
    relayUrl,
    assetHubUrl,
    assetHub,
    networkUrl,
    relay,
    relayRuntime,
    account,
    stash,
    counters: (who, fromSlot) => accounting.counters(typeof who === 'string' ? decodeAddress(who) : who, fromSlot),
    async startNode(nodeOpts) {
      const node = await startSimNodeProcess({ ...nodeOpts, networkUrl });
      nodes.add(node);
      return {
        ...node,
        stop: async () => {
          nodes.delete(node);
          await node.stop();
        },
      };
    },
    stop,
  };
}
