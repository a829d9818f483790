/**
 * Transaction-pool validation of submitted extrinsics: SCALE decoding with the runtime's metadata, the
 * signed-extension payload rebuilt from the chain's own version and genesis, sr25519/ed25519/ecdsa
 * signature check, mortality and nonce. Dispatch lives in the runtime modules.
 */
import type { GenericExtrinsic } from '@polkadot/types';
import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { hexToU8a, isHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, signatureVerify } from '@polkadot/util-crypto';
import type { Runtime } from './metadata.js';
import { InvalidTransactionReason, RpcError, invalidTransaction } from './rpc-error.js';

export interface ValidatedExtrinsic {
  hex: string;
  hash: string;
  signer: Uint8Array;
  nonce: number;
  call: Call;
}

export interface ChainView {
  genesisHash: string;
  bestNumber: number;
  blockHash(number: number): string | undefined;
}

export function decodeExtrinsic(runtime: Runtime, hex: unknown): GenericExtrinsic {
  if (typeof hex !== 'string' || !isHex(hex)) throw new RpcError(1001, 'Extrinsic has invalid format: not hex');
  try {
    const xt = runtime.registry.createType('Extrinsic', hexToU8a(hex));
    if (xt.toHex() !== hex) throw new Error('trailing or malformed bytes');
    return xt;
  } catch (error) {
    throw new RpcError(1001, `Extrinsic has invalid format: ${(error as Error).message}`);
  }
}

/** The block hash the signer committed to: the era's birth block, or genesis for immortal transactions. */
function checkpointHash(xt: GenericExtrinsic, chain: ChainView): string {
  if (!xt.era.isMortalEra) return chain.genesisHash;
  const birth = xt.era.asMortalEra.birth(chain.bestNumber);
  const death = xt.era.asMortalEra.death(chain.bestNumber);
  const hash = chain.blockHash(birth);
  if (hash === undefined || chain.bestNumber >= death) {
    throw invalidTransaction(InvalidTransactionReason.ancientBirthBlock);
  }
  return hash;
}

/** Validates a signed extrinsic against the chain; `accountNonce` is the signer's nonce in the best state. */
export function validateSigned(
  runtime: Runtime,
  chain: ChainView,
  xt: GenericExtrinsic,
  accountNonce: (signer: Uint8Array) => number,
): ValidatedExtrinsic {
  if (!xt.isSigned) throw invalidTransaction(InvalidTransactionReason.call);
  // The signer is a MultiAddress; only `Id` (the plain account) is used by the relay's signed extensions.
  const signer = decodeAddress(xt.signer.toString());
  const payload = runtime.registry.createType(
    'ExtrinsicPayload',
    {
      method: xt.method.toHex(),
      era: xt.era,
      nonce: xt.nonce,
      tip: xt.tip,
      assetId: xt.assetId,
      mode: xt.mode,
      specVersion: runtime.version.specVersion,
      transactionVersion: runtime.version.transactionVersion,
      genesisHash: chain.genesisHash,
      blockHash: checkpointHash(xt, chain),
    },
    { version: xt.version & 0x7f },
  );
  const encoded = payload.toU8a({ method: true });
  // Payloads over 256 bytes are signed as their blake2_256 hash (sp_runtime::generic::SignedPayload).
  const message = encoded.length > 256 ? blake2AsU8a(encoded, 256) : encoded;
  const multiSignature = (xt.inner.signature as unknown as { multiSignature: Codec }).multiSignature;
  if (!signatureVerify(message, multiSignature.toU8a(), signer).isValid) {
    throw invalidTransaction(InvalidTransactionReason.badProof);
  }
  const nonce = xt.nonce.toNumber();
  if (nonce < accountNonce(signer)) throw invalidTransaction(InvalidTransactionReason.stale);
  return { hex: xt.toHex(), hash: xt.hash.toHex(), signer, nonce, call: xt.method as Call };
}
