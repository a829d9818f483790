/**
 * The local NEAR network for tests and the demo: `startNearDevnet` starts a simulated chain behind a real
 * JSON-RPC endpoint that near-api-js talks to unchanged, and a socket for simulated neard processes
 * (neard-sim.ts) to sign blocks on. See chain.ts for what is simulated.
 */
import { KeyPair, PublicKey } from 'near-api-js';
import { NearChain, type AccountState, type Block } from './chain.js';
import type { ValidatorStake } from './epochs.js';
import { NEARCORE_KICKOUT_DEFAULTS } from './kickouts.js';
import { createRpcMethods } from './rpc-methods.js';
import { startRpcServer } from './rpc-server.js';
import type { ValidatorCounters } from './signing-ledger.js';

export type { ValidatorCounters, DoubleSign } from './signing-ledger.js';
export type { Kickout, KickoutReason } from './epochs.js';
export { NEARCORE_KICKOUT_DEFAULTS, NO_PERFORMANCE_KICKOUTS, type KickoutConfig } from './kickouts.js';
export type { NearChain, Block } from './chain.js';
// What hosts need to run simulated nodes: an installed binary and a home made like `neard init`.
export { writeNeardBinary, neardSimCommand, type NeardBinary } from './neard-binary.js';
export {
  initNodeHome,
  writeValidatorKey,
  removeValidatorKey,
  readDbMarker,
  type DbMarker,
  type InitNodeHomeOptions,
  type NodeConfig,
} from './node-home.js';

export interface DevnetAccount {
  accountId: string;
  /** Liquid balance in yoctoNEAR; 1000 NEAR by default. */
  amount?: bigint;
  /** Full-access keys ("ed25519:..."). */
  publicKeys?: string[];
}

export interface DevnetValidator extends DevnetAccount {
  /** The validator key the account stakes with (a pool's stake_public_key). */
  stakePublicKey: string;
  stake: bigint;
  /** Present for a staking-pool account: the owner who may call update_staking_key. Absent: a direct staker. */
  pool?: { ownerId: string };
}

export interface NearDevnetOptions {
  epochLength: number;
  blockTimeMs: number;
  chainId?: string;
  /** The genesis protocol version (default 73); later epochs run what the validators vote for. */
  protocolVersion?: number;
  /** The protocol version the devnet's own validators vote for (default: the genesis version). */
  devnetProtocolVersion?: number;
  /**
   * nearcore's genesis kickout settings: the percent of its expected blocks (chunks) a validator must produce
   * in an epoch not to be kicked out, and the stake share a protocol version needs. nearcore's defaults 90, 90
   * and [4, 5] (mainnet's genesis has 80 and 80); a threshold of 0 never kicks out.
   */
  blockProducerKickoutThreshold?: number;
  chunkProducerKickoutThreshold?: number;
  protocolUpgradeStakeThreshold?: [number, number];
  genesisHeight?: number;
  /**
   * Produce no block until `launch()`: a network's genesis waits for its validators' nodes, which would
   * otherwise miss their first heights and be kicked out.
   */
  paused?: boolean;
  transactionValidityPeriod?: number;
  /** How long after a block the devnet waits for signatures before counting them missed (default 2 s). */
  signatureGraceMs?: number;
  host?: string;
  port?: number;
  accounts?: DevnetAccount[];
  /** The genesis validators: current in the first two epochs. */
  validators?: DevnetValidator[];
  /**
   * Genesis validators the devnet runs itself (direct stakers with keys only it knows): they sign every height,
   * like the rest of a real validator set, so the validators under test own only their share of the heights.
   */
  devnetValidators?: { accountId: string; stake: bigint }[];
  log?: (line: string) => void;
}

export interface NearDevnet {
  rpcUrl: string;
  /** Where simulated neard processes connect (their config's simulator.network_socket). */
  nodeSocketUrl: string;
  chainId: string;
  chain: NearChain;
  createAccount(account: DevnetAccount): void;
  /** Deploys a staking pool (as the pool factory would) that proposes its stake at once: current from T+2. */
  createStakingPool(pool: { poolId: string; ownerId: string; stakePublicKey: string; stake: bigint }): void;
  counters(accountId: string): ValidatorCounters;
  /** Starts producing blocks (a network started `paused`); nothing if it already does. */
  launch(): void;
  waitForHeight(height: number, timeoutMs?: number): Promise<Block>;
  /** Resolves at the first block of the epoch with this epoch_height. */
  waitForEpochHeight(epochHeight: number, timeoutMs?: number): Promise<Block>;
  stop(): Promise<void>;
}

export const ONE_NEAR = 10n ** 24n;
const DEFAULT_AMOUNT = 1000n * ONE_NEAR;

export async function startNearDevnet(opts: NearDevnetOptions): Promise<NearDevnet> {
  const chainId = opts.chainId ?? 'localnet';
  const devnetRun: DevnetValidator[] = (opts.devnetValidators ?? []).map((v) => ({
    accountId: v.accountId,
    stakePublicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
    stake: v.stake,
  }));
  const allValidators = [...(opts.validators ?? []), ...devnetRun];
  const genesisValidators: ValidatorStake[] = allValidators.map((v) => ({
    accountId: v.accountId,
    publicKey: normalizeKey(v.stakePublicKey),
    stake: v.stake,
  }));
  const chain = new NearChain(
    {
      chainId,
      epochLength: opts.epochLength,
      blockTimeMs: opts.blockTimeMs,
      protocolVersion: opts.protocolVersion ?? 73,
      devnetProtocolVersion: opts.devnetProtocolVersion ?? opts.protocolVersion ?? 73,
      blockProducerKickoutThreshold: percent(
        opts.blockProducerKickoutThreshold ?? NEARCORE_KICKOUT_DEFAULTS.blockProducerKickoutThreshold,
        'blockProducerKickoutThreshold',
      ),
      chunkProducerKickoutThreshold: percent(
        opts.chunkProducerKickoutThreshold ?? NEARCORE_KICKOUT_DEFAULTS.chunkProducerKickoutThreshold,
        'chunkProducerKickoutThreshold',
      ),
      protocolUpgradeStakeThreshold:
        opts.protocolUpgradeStakeThreshold ?? NEARCORE_KICKOUT_DEFAULTS.protocolUpgradeStakeThreshold,
      genesisHeight: opts.genesisHeight ?? 1,
      transactionValidityPeriod: opts.transactionValidityPeriod ?? 86_400,
      signatureGraceMs: opts.signatureGraceMs ?? 2_000,
    },
    genesisValidators,
  );
  const createAccount = (spec: DevnetAccount): AccountState => {
    if (chain.accounts.has(spec.accountId)) throw new Error(`account ${spec.accountId} already exists`);
    const account: AccountState = {
      amount: spec.amount ?? DEFAULT_AMOUNT,
      locked: 0n,
      keys: new Map((spec.publicKeys ?? []).map((k) => [normalizeKey(k), { nonce: 0n, permission: 'FullAccess' }])),
    };
    chain.accounts.set(spec.accountId, account);
    return account;
  };
  for (const spec of opts.accounts ?? []) createAccount(spec);
  for (const v of devnetRun) chain.devnetSigners.add(normalizeKey(v.stakePublicKey));
  for (const v of allValidators) {
    const account = createAccount(v);
    account.locked = v.stake;
    if (v.pool) {
      account.pool = {
        ownerId: v.pool.ownerId,
        stakePublicKey: normalizeKey(v.stakePublicKey),
        totalStakedBalance: v.stake,
        paused: false,
      };
    }
  }

  const startedAtMs = Date.now();
  const host = opts.host ?? '127.0.0.1';
  const rpcAddr = `${host}:${opts.port ?? 0}`;
  const methods = createRpcMethods(chain, { version: 'devnet', build: 'simulator', rpcAddr, startedAtMs });
  const server = await startRpcServer(chain, methods, { host, port: opts.port ?? 0, log: opts.log });
  if (!opts.paused) chain.start();

  const waitFor = (done: (b: Block) => boolean, what: string, timeoutMs: number) =>
    new Promise<Block>((resolve, reject) => {
      if (done(chain.head())) return resolve(chain.head());
      const timer = setTimeout(() => {
        chain.off('block', onBlock);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (head #${chain.head().height})`));
      }, timeoutMs);
      const onBlock = (b: Block) => {
        if (!done(b)) return;
        clearTimeout(timer);
        chain.off('block', onBlock);
        resolve(b);
      };
      chain.on('block', onBlock);
    });

  return {
    rpcUrl: server.url,
    nodeSocketUrl: server.nodeSocketUrl,
    chainId,
    chain,
    createAccount: (spec) => void createAccount(spec),
    createStakingPool: ({ poolId, ownerId, stakePublicKey, stake }) => {
      const account = createAccount({ accountId: poolId, amount: 0n });
      const key = normalizeKey(stakePublicKey);
      account.locked = stake;
      account.pool = { ownerId, stakePublicKey: key, totalStakedBalance: stake, paused: false };
      chain.epochs.propose({ accountId: poolId, publicKey: key, stake });
    },
    counters: (accountId) => chain.ledger.counters(accountId),
    launch: () => chain.start(),
    waitForHeight: (height, timeoutMs = 60_000) => waitFor((b) => b.height >= height, `height ${height}`, timeoutMs),
    waitForEpochHeight: (epochHeight, timeoutMs = 60_000) =>
      waitFor((b) => b.epochIndex + 1 >= epochHeight, `epoch_height ${epochHeight}`, timeoutMs),
    stop: async () => {
      chain.stop();
      await server.close();
    },
  };
}

function percent(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 100) throw new Error(`${field} must be a percent (0 to 100)`);
  return value;
}

function normalizeKey(key: string): string {
  return PublicKey.fromString(key).toString();
}
