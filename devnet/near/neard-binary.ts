/**
 * "Installs" a simulated neard binary: an executable shell script that runs neard-sim.ts with a fixed release,
 * protocol and database version. Different versions are different files, so an upgrade replaces one file
 * with another exactly as with the real binary (and a checksum means something).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { NeardBinary } from './neard-node.js';

export type { NeardBinary } from './neard-node.js';

/** The command that runs the simulator, without version arguments: [node, --import, tsx, neard-sim.ts]. */
export function neardSimCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), `neard-sim${path.extname(here)}`);
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', loader, entry];
}

export function neardVersionArgs(binary: NeardBinary): string[] {
  return [
    '--release-version',
    binary.version,
    '--build',
    binary.build,
    '--protocol-version',
    String(binary.protocolVersion),
    '--db-version',
    String(binary.dbVersion),
  ];
}

/** Writes an executable `neard` wrapper at `file`; run it as `<file> --home <dir> run`. */
export function writeNeardBinary(file: string, binary: NeardBinary): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const argv = [...neardSimCommand(), ...neardVersionArgs(binary)].map(shellQuote).join(' ');
  const script = [
    '#!/bin/sh',
    `# Simulated ${neardBannerComment(binary)} (see devnet/near/neard-sim.ts)`,
    `exec ${argv} "$@"`,
    '',
  ].join('\n');
  writeFileSync(file, script, { mode: 0o755 });
  chmodSync(file, 0o755);
}

function neardBannerComment(binary: NeardBinary): string {
  return `neard ${binary.version} (protocol ${binary.protocolVersion}, db ${binary.dbVersion})`;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
