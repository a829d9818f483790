/**
 * The workflow side of "nobody else signs with this key": an observation (an activity) judged by the rules in
 * src/api/signer-evidence.ts. Evidence against refuses at once; evidence for lets the step go on; while it
 * cannot be told (a node that runs but does not answer, a process whose home cannot be read) the step holds,
 * says why in the status, and looks again on a plain timer (so it works during compensation too), up to a limit.
 *
 * Histories recorded before these checks replay the checks they ran then (SIGNER_EVIDENCE_PATCH); a run that
 * reaches a check on a newer worker takes the new one from there on.
 */
import { ApplicationFailure, patched, sleep } from '@temporalio/workflow';
import { judgeSigner, type SignerObservation, type SignerRequirement } from '../../src/api/signer-evidence.js';
import { UNSAFE_ERROR_TYPE, type UpgradeRun } from './upgrade-run.js';

export const SIGNER_EVIDENCE_PATCH = 'signer-evidence';

export const usesSignerEvidence = () => patched(SIGNER_EVIDENCE_PATCH);

const UNKNOWN_RECHECK_MS = 15_000;
const UNKNOWN_LIMIT_MS = 10 * 60_000;

/** Returns the evidence once `observe` shows `requirement`; throws UnsafeToProceed on evidence against it. */
export async function requireSignerEvidence(
  run: UpgradeRun,
  observe: () => Promise<SignerObservation>,
  requirement: SignerRequirement,
  why: string,
): Promise<string> {
  const deadline = Date.now() + UNKNOWN_LIMIT_MS;
  for (;;) {
    const { verdict, because } = judgeSigner(await observe(), requirement);
    if (verdict === 'safe') {
      if (run.steps.waiting) {
        run.steps.waiting = undefined;
        run.steps.publish();
      }
      return because;
    }
    if (verdict === 'unsafe') throw ApplicationFailure.nonRetryable(`${because}; ${why}`, UNSAFE_ERROR_TYPE);
    const now = Date.now();
    if (now >= deadline)
      throw ApplicationFailure.nonRetryable(
        `no evidence either way after ${UNKNOWN_LIMIT_MS / 60_000} min: ${because}; ${why}`,
        UNSAFE_ERROR_TYPE,
      );
    run.note(`cannot tell yet: ${because}`);
    run.steps.waiting = {
      reason: `evidence that nobody else signs: ${because}`,
      until: new Date(now + UNKNOWN_RECHECK_MS).toISOString(),
    };
    run.steps.publish();
    await sleep(UNKNOWN_RECHECK_MS, { summary: 'look again for evidence that nobody else signs' });
  }
}
