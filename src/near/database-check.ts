/**
 * Whether a new neard will migrate the node's database when it starts. neard keeps the DB version inside
 * RocksDB and migrates on open, so the data is at the DB version of the binary that last opened it: the
 * installed one, when the running node reports that release (or the node is not running). When the running
 * node reports another release, the installed file was replaced under it and the data's version is unknown;
 * the answer is then "may migrate", so the workflow follows the start as a migration and never interrupts it.
 */
import type { DatabaseCheck } from '../api/contracts/near.js';
import type { DatabaseVersions } from './node-files.js';

export function judgeDatabase(versions: DatabaseVersions, runningRelease: string | undefined): DatabaseCheck {
  const { target, installed } = versions;
  const base = {
    binaryDbVersion: target.dbVersion,
    binaryVersion: target.version,
    migrationSnapshot: versions.migrationSnapshot,
  };
  if (!versions.hasData) return { ...base, migrationNeeded: false, dataDbVersionSource: 'the node has no database' };
  if (!installed)
    return { ...base, migrationNeeded: true, dataDbVersionSource: 'unknown: no neard is installed at the node path' };
  if (runningRelease !== undefined && runningRelease !== installed.version)
    return {
      ...base,
      migrationNeeded: true,
      dataDbVersionSource: `unknown: the node runs release ${runningRelease} but ${installed.version} is installed`,
    };
  return {
    ...base,
    dataDbVersion: installed.dbVersion,
    migrationNeeded: installed.dbVersion < target.dbVersion,
    dataDbVersionSource:
      runningRelease === undefined
        ? `last opened by the installed release ${installed.version} (the node is not running)`
        : `opened by the running release ${installed.version}`,
  };
}
