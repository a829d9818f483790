/**
 * The devnet's internal channel to the simulated neard processes (a WebSocket at NODE_SOCKET_PATH on the devnet's
 * RPC port). The devnet announces each block with the validators expected to sign it; a node that is synced and
 * whose key is current answers with an ed25519 block approval and chunk signature. What a node signs is defined
 * here, so that the devnet can verify who signed which height with which key.
 */
import { baseDecode } from 'near-api-js';
import { sha256 } from './hashing.js';

export const NODE_SOCKET_PATH = '/devnet/nodes';

export interface ValidatorRef {
  account_id: string;
  public_key: string;
}

export interface BlockAnnouncement {
  type: 'block';
  chainId: string;
  protocolVersion: number;
  height: number;
  hash: string;
  timestampNanosec: string;
  epochId: string;
  epochStartHeight: number;
  /** The validators of this block's epoch, who are expected to sign it. */
  validators: ValidatorRef[];
}

export interface SignMessage {
  type: 'sign';
  height: number;
  blockHash: string;
  accountId: string;
  publicKey: string;
  /** base58 ed25519 signatures over blockApprovalPayload / chunkPayload. */
  blockSignature: string;
  chunkSignature: string;
  /** The node binary's protocol version, which a block it produces carries as its vote. */
  protocolVersion: number;
  /** Random per process: two processes signing one height with one key is double signing. */
  instanceId: string;
  /** The node's network identity (node_key.json public key), for reports. */
  nodePublicKey: string;
}

export type NodeToDevnet = SignMessage;
export type DevnetToNode = BlockAnnouncement;

export function blockApprovalPayload(blockHash: string): Uint8Array {
  return sha256('approval', baseDecode(blockHash));
}

/** The devnet has one shard (0). */
export function chunkPayload(blockHash: string): Uint8Array {
  return sha256('chunk:0', baseDecode(blockHash));
}
