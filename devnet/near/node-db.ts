/**
 * Opening a simulated neard database the way nearcore's store opener does (core/store/src/opener.rs): a newer
 * database than the binary's is refused, an older one is migrated step by step after taking a migration
 * snapshot, and a snapshot left behind means a migration was interrupted, so the database is refused until
 * the operator restores it.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DB_MARKER_FILE, readDbMarker, writeDbMarker, type DbMarker } from './node-home.js';

export const MIGRATION_SNAPSHOT_DIR = 'migration-snapshot';

/** The database cannot be opened by this binary; the message is what neard prints. */
export class DatabaseRefused extends Error {}

export async function openDatabase(
  dataPath: string,
  binaryDbVersion: number,
  migrationStepMs: number,
  log: (level: 'INFO' | 'WARN' | 'ERROR', target: string, line: string) => void,
): Promise<DbMarker> {
  const snapshot = path.join(dataPath, MIGRATION_SNAPSHOT_DIR);
  if (existsSync(snapshot)) {
    throw new DatabaseRefused(
      `Detected an existing database migration snapshot at '${snapshot}'. Probably a database migration got ` +
        `interrupted and your database is corrupted. Please replace files in '${dataPath}' with contents of the ` +
        `snapshot, delete the snapshot and try again.`,
    );
  }
  const marker = readDbMarker(dataPath);
  if (!marker) {
    log('INFO', 'db_opener', `Creating a new database at ${dataPath} (version ${binaryDbVersion})`);
    const fresh: DbMarker = { db_version: binaryDbVersion, head_height: 0, state: 'ok' };
    writeDbMarker(dataPath, fresh);
    return fresh;
  }
  if (marker.state !== 'ok') {
    throw new DatabaseRefused(
      `The database at '${dataPath}' is corrupted: a migration from version ${marker.db_version} to ` +
        `${marker.migrating_to ?? '?'} was interrupted. Restore the data folder from a backup.`,
    );
  }
  if (marker.db_version > binaryDbVersion) {
    throw new DatabaseRefused(
      `Database version ${marker.db_version} is higher than the expected version ${binaryDbVersion}. It was ` +
        `likely created by newer version of neard. Please upgrade your neard binary or start from a fresh database.`,
    );
  }
  if (marker.db_version === binaryDbVersion) return marker;

  log('INFO', 'db_opener', `Creating database migration snapshot in '${snapshot}'`);
  cpSync(path.join(dataPath, DB_MARKER_FILE), path.join(snapshot, DB_MARKER_FILE));
  let version = marker.db_version;
  while (version < binaryDbVersion) {
    writeDbMarker(dataPath, { ...marker, db_version: version, state: 'migrating', migrating_to: binaryDbVersion });
    log('INFO', 'db_opener', `Migrating the database from version ${version} to ${version + 1}`);
    await sleep(migrationStepMs);
    version++;
  }
  const migrated: DbMarker = { ...marker, db_version: version, state: 'ok' };
  writeDbMarker(dataPath, migrated);
  rmSync(snapshot, { recursive: true, force: true });
  log('INFO', 'db_opener', `Database migrated to version ${version}; deleted the migration snapshot`);
  return migrated;
}
