/**
 * NEAR stop-and-restart upgrade: the validator node is stopped, gets the new binary and starts again. The
 * account misses blocks from the stop until the node signs again, so this is for releases that must run on
 * the validator's own data (or operators without a second node).
 *
 *   1. check the node signs for the account; read the database version against the new release
 *   2. back up the binary the node runs now
 *   3. stage the new release beside the binary (checksum verified), while the node still signs
 *   4. [approval] one host-side step: stop the node (verified by observation), rename the staged release
 *      over its binary, start it (runs before ONE_STEP_RESTART_PATCH took this as three steps)
 *   6. if the database needs a migration: follow it until it is done. Interrupting a migration corrupts the
 *      database, so this wait has no deadline that stops anything: past its limit it only says so.
 *   7. wait until the node is synced, then until it produces again
 *
 * On failure before a migration started, compensation stops the node, puts the old binary back and starts
 * the node on it. Once the new binary has touched the database the old binary cannot open it any more;
 * compensation then stops and leaves the node running for an operator.
 */
import type { NearStopAndRestartInput } from '../src/api/near-inputs.js';
import type { DatabaseCheck, NodeStatus } from '../src/api/contracts/near.js';
import { WAIT_TIMEOUT_ERROR_TYPE, waitForChain } from './common/chain-wait.js';
import {
  binary,
  ensureStopped,
  hostName,
  host,
  near,
  nearWaits,
  restartOnRelease,
  unsafe,
  upgradeTag,
  type BinaryBackup,
} from './common/near.js';
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { usesSignerEvidence } from './common/signer-evidence.js';
import { observeCounters } from './common/chain-counters.js';
import { beginStrategy, type CarriedState } from './common/upgrade-run.js';

export interface NearStopAndRestartResult {
  validatorKey: string;
  database: DatabaseCheck;
  oldBinaryBackup: string;
  migrated: boolean;
}

/** A year: the migration wait's "deadline" only exists because waits need one; nothing ever stops a migration. */
const NEVER_MS = 365 * 24 * 3_600_000;

/**
 * A migrating node's RPC does not answer until the database is open: runs from this patch on ask with an
 * activity that says so in its answer, so each look is not a failed activity in the UI.
 */
const PROBE_ANSWERS_PATCH = 'probe-answers';
/** One activity a look (service active, RPC open) instead of two: a migration look costs 11 events, not 17. */
const MIGRATION_LOOK_IN_ONE_PATCH = 'migration-look-in-one';

export async function nearStopAndRestartUpgrade(rawInput: NearStopAndRestartInput, carried?: CarriedState) {
  const { run, input, steps } = await beginStrategy('nearStopAndRestartUpgrade', rawInput, carried);
  const { accountId } = input.validator;
  const { node, networkRpcUrl, timeouts, release } = input;
  const tag = upgradeTag(run);

  return run.execute<NearStopAndRestartResult>(async () => {
    const { validatorKey, database } = await run.step(steps.checkNode, async () => {
      const status = await near.nodeStatus(node, { chainId: input.validator.network, networkRpcUrl });
      if (status.validatorAccountId !== accountId || !status.validatorPublicKey)
        throw unsafe(`${hostName(node)} does not validate for ${accountId}`);
      // The chain's counters before the stop: what the node misses from here on is the run's to report.
      observeCounters(run, status.counters);
      const database = await near.checkDatabase(node, release.staged, release.sha256);
      if (database.dataDbVersion !== undefined && database.dataDbVersion > database.binaryDbVersion)
        throw unsafe(
          `the node's database is version ${database.dataDbVersion}, newer than ${database.binaryDbVersion} of release ${database.binaryVersion}`,
        );
      return { validatorKey: status.validatorPublicKey, database };
    });
    if (database.migrationNeeded)
      run.note(
        database.dataDbVersion === undefined
          ? `release ${database.binaryVersion} may migrate the database on start (its version is ${database.dataDbVersionSource}); the start is followed as a migration`
          : `release ${database.binaryVersion} migrates the database from version ${database.dataDbVersion} to ${database.binaryDbVersion} on start`,
      );

    const backup = await run.step(steps.backUpBinary, () => binary.backUp(node, `${node.binary}.pre-${tag}`));

    if (run.takes(steps.restartOnRelease)) await restartInOneStep(backup, validatorKey, database);
    else await restartStepByStep(backup, validatorKey, database);

    if (database.migrationNeeded) {
      await run.step(steps.waitMigration, () => followMigration(timeouts.migration));
    } else {
      run.skip(steps.waitMigration, 'the database needs no migration');
    }

    await run.step(steps.waitSynced, () =>
      nearWaits.synced(run, 'synced', node, networkRpcUrl, { timeoutMs: timeouts.sync }),
    );
    await run.step(steps.waitSigning, () =>
      nearWaits.signing(run, 'signing', node, networkRpcUrl, accountId, 'head', { timeoutMs: timeouts.signing }),
    );

    return { validatorKey, database, oldBinaryBackup: backup.path, migrated: database.migrationNeeded };
  });

  /**
   * The release is staged beside the binary (checksum verified) while the node still signs; one host-side
   * step then stops the node, renames the release over its binary and starts it. When that fails the node
   * goes back to the old binary, running; undoing it later does the same unless the new release has begun
   * a migration: then the node is left for an operator, as the step-by-step runs did.
   */
  async function restartInOneStep(backup: BinaryBackup, validatorKey: string, database: DatabaseCheck) {
    const { accountId } = input.validator;
    const stagedPath = `${node.binary}.new-${tag}`;
    await run.step(steps.stageRelease, () => host.install(node, release.staged, stagedPath, release.sha256));
    const backToOldBinary = async () => {
      await host.stop(node);
      await binary.restore(node, backup);
      await ensureStopped(run, node, 'it may only start again when nothing else signs with its key', validatorKey);
      await host.start(node);
    };
    const undoRestart = async () => {
      if (database.migrationNeeded)
        throw unsafe(
          `release ${database.binaryVersion} has started migrating the database; the old binary cannot open it, so the node is left running for an operator`,
        );
      await backToOldBinary();
    };
    await run.step(
      steps.restartOnRelease,
      async () => {
        try {
          return await restartOnRelease(
            node,
            { path: stagedPath, sha256: release.sha256 },
            { publicKey: validatorKey },
          );
        } catch (err) {
          // It did not start on the new release (so migrated nothing): back to the old binary, running.
          await backToOldBinary();
          throw err;
        }
      },
      { approval: `Stop ${hostName(node)}: ${accountId} misses blocks until it runs again`, undo: undoRestart },
    );
  }

  /** The stop, install and start of runs started before ONE_STEP_RESTART_PATCH, replayed as they ran. */
  async function restartStepByStep(backup: BinaryBackup, validatorKey: string, database: DatabaseCheck) {
    const { accountId } = input.validator;
    await run.step(
      steps.stopNode,
      async () => {
        await host.stop(node);
        await ensureStopped(run, node, 'the binary cannot be replaced under a running node');
      },
      {
        approval: `Stop ${hostName(node)}: ${accountId} misses blocks until it runs again`,
        undo: async () => {
          if (usesSignerEvidence())
            await ensureStopped(
              run,
              node,
              'it may only start again when nothing else signs with its key',
              validatorKey,
            );
          await host.start(node);
        },
      },
    );

    await run.step(steps.installRelease, () => host.install(node, release.staged, node.binary, release.sha256), {
      undo: () => binary.restore(node, backup).then(() => undefined),
    });

    await run.step(
      steps.startNode,
      async () => {
        await ensureStopped(run, node, 'it must start only once, on the new release', validatorKey);
        return host.start(node);
      },
      {
        undo: async () => {
          if (database.migrationNeeded)
            throw unsafe(
              `release ${database.binaryVersion} has started migrating the database; the old binary cannot open it, so the node is left running for an operator`,
            );
          await host.stop(node);
        },
      },
    );
  }

  /**
   * The migration is done when the node's RPC answers (neard opens its RPC after the database). While it
   * runs the service stays active; if the process exits, the migration failed and only an operator can
   * restore the database (from its migration snapshot). Past `reportAfterMs` the wait goes on and says so.
   */
  async function followMigration(reportAfterMs: number) {
    const startedAt = run.remember('migration-started-at', () => Date.now());
    const exited = () =>
      unsafe(
        `${hostName(node)} exited while migrating its database; restore it from the migration snapshot before starting it again`,
      );
    const look = async () => {
      let status: NodeStatus | undefined;
      if (patched(MIGRATION_LOOK_IN_ONE_PATCH)) {
        const seen = await near.migrationState(node);
        if (!seen.serviceActive) throw exited();
        status = seen.probe.answering ? seen.probe.status : undefined;
      } else {
        if (!(await host.isActive(node))) throw exited();
        status = patched(PROBE_ANSWERS_PATCH)
          ? await near.answering(node).then((probe) => (probe.answering ? probe.status : undefined))
          : await near.probeStatus(node).catch(() => undefined);
      }
      // Migrations take minutes to days: look again after a quarter of the time it has run so far.
      const etaMs = (Date.now() - startedAt) / 4;
      return status
        ? { reached: true, detail: `database open; node at height ${status.latestBlockHeight}`, value: status }
        : { reached: false, detail: 'database migration in progress (the RPC opens when it is done)', etaMs };
    };
    const opts = { minRecheckMs: 10_000, maxSleepMs: 30 * 60_000 };
    try {
      return await waitForChain(run, 'migration', 'the database migration', look, {
        ...opts,
        timeoutMs: reportAfterMs,
      });
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.type !== WAIT_TIMEOUT_ERROR_TYPE) throw err;
      run.note(`the migration is taking longer than expected; still following it, it is never interrupted`);
      return waitForChain(run, 'migration-overdue', 'the database migration (overdue)', look, {
        ...opts,
        timeoutMs: NEVER_MS,
      });
    }
  }
}
