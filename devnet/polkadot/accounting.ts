/**
 * Per-validator accounting of what the simulated nodes sign. For every slot, each active validator is
 * expected to author (BABE key) and vote (GRANDPA key); a slot counts as signed when both signatures arrived
 * within the grace window, otherwise as missed. Two different payloads signed with the same key for the same
 * slot are an equivocation (two machines signing with one key); each one found is handed to `onEquivocation`,
 * which the devnet turns into the offence report a real chain's equivocation reporting would record.
 */
import { u8aToHex } from '@polkadot/util';
import { ed25519Verify, sr25519Verify } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import type { ActiveValidator } from './relay-runtime.js';
import { type SessionKeyField, splitSessionKeys } from './session-keys.js';

/** Key types a validator must sign with every slot: authoring and finality voting. */
export const DUTY_KEY_TYPES = ['babe', 'gran'] as const;
export type DutyKeyType = (typeof DUTY_KEY_TYPES)[number];

export interface SlotSignature {
  slot: number;
  keyType: DutyKeyType;
  publicKey: string;
  payload: string;
  signature: string;
  nodeId: string;
}

export interface ValidatorCounters {
  /** Slots in which the validator was active and the grace window has passed. */
  expected: number;
  signed: number;
  missed: number;
  /** Slots with two different payloads signed by one of the validator's keys. */
  equivocations: number;
  /** Node ids that signed for this validator. */
  signers: string[];
}

interface Duty {
  stash: string;
  keys: Record<DutyKeyType, string>;
}

interface OpenSlot {
  duties: Duty[];
  /** publicKey -> payload -> node ids */
  payloads: Map<string, Map<string, Set<string>>>;
}

/** One key of a validator signed two different payloads for one slot. */
export interface Equivocation {
  slot: number;
  /** Stash (hex public key). */
  stash: string;
  keyType: DutyKeyType;
}

interface SlotOutcome {
  slot: number;
  signed: boolean;
  equivocation: boolean;
  signers: string[];
}

export class Accounting {
  private readonly open = new Map<number, OpenSlot>();
  private readonly outcomes = new Map<string, SlotOutcome[]>();

  constructor(
    private readonly layout: SessionKeyField[],
    private readonly graceSlots: number,
    private readonly onEquivocation: (equivocation: Equivocation) => void = () => {},
  ) {}

  /** A new slot began with this active set; slots older than the grace window are settled. */
  onSlot(slot: number, active: ActiveValidator[]): void {
    const duties = active.flatMap(({ stash, keys }) => {
      const parts = splitSessionKeys(this.layout, keys);
      if (!parts) return [];
      const keyOf = (type: DutyKeyType) => u8aToHex(parts.find((p) => p.field.keyType === type)?.publicKey);
      return [{ stash: u8aToHex(stash), keys: { babe: keyOf('babe'), gran: keyOf('gran') } }];
    });
    this.open.set(slot, { duties, payloads: new Map() });
    for (const [openSlot, record] of this.open) {
      if (openSlot <= slot - this.graceSlots) {
        this.settle(openSlot, record);
        this.open.delete(openSlot);
      }
    }
  }

  /** Records a node's signature; returns why it was refused, if it was. */
  record(sig: SlotSignature): string | undefined {
    const record = this.open.get(sig.slot);
    if (!record) return `slot ${sig.slot} is not open`;
    const duty = record.duties.find((d) => d.keys[sig.keyType] === sig.publicKey);
    if (!duty) return `${sig.keyType} key ${sig.publicKey} is not active in slot ${sig.slot}`;
    const verify = sig.keyType === 'gran' ? ed25519Verify : sr25519Verify;
    let valid = false;
    try {
      valid = verify(hexToU8a(sig.payload), hexToU8a(sig.signature), hexToU8a(sig.publicKey));
    } catch {
      valid = false;
    }
    if (!valid) return 'bad signature';
    const byPayload = record.payloads.get(sig.publicKey) ?? new Map<string, Set<string>>();
    record.payloads.set(sig.publicKey, byPayload);
    const nodes = byPayload.get(sig.payload) ?? new Set<string>();
    byPayload.set(sig.payload, nodes);
    nodes.add(sig.nodeId);
    return undefined;
  }

  counters(stash: Uint8Array, fromSlot = 0): ValidatorCounters {
    const outcomes = (this.outcomes.get(u8aToHex(stash)) ?? []).filter((o) => o.slot >= fromSlot);
    const signed = outcomes.filter((o) => o.signed).length;
    return {
      expected: outcomes.length,
      signed,
      missed: outcomes.length - signed,
      equivocations: outcomes.filter((o) => o.equivocation).length,
      signers: [...new Set(outcomes.flatMap((o) => o.signers))],
    };
  }

  private settle(slot: number, record: OpenSlot): void {
    for (const duty of record.duties) {
      const perKey = DUTY_KEY_TYPES.map(
        (type) => record.payloads.get(duty.keys[type]) ?? new Map<string, Set<string>>(),
      );
      const outcome: SlotOutcome = {
        slot,
        signed: perKey.every((payloads) => payloads.size > 0),
        equivocation: perKey.some((payloads) => payloads.size > 1),
        signers: [...new Set(perKey.flatMap((payloads) => [...payloads.values()].flatMap((nodes) => [...nodes])))],
      };
      DUTY_KEY_TYPES.forEach((keyType, i) => {
        if (perKey[i]!.size > 1) this.onEquivocation({ slot, stash: duty.stash, keyType });
      });
      const list = this.outcomes.get(duty.stash) ?? [];
      list.push(outcome);
      this.outcomes.set(duty.stash, list);
    }
  }
}
