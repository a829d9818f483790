/**
 * The crash tests' side of the hosts' answer hold (devnet/hosts/sshd.ts `holdAnswers`): while armed, every
 * command a worker runs on a host does its work and then waits, its exit status unsent, until the test
 * releases it. A test releases what it does not want held, and keeps the one command it kills the worker at.
 *
 *   const hold = new SshAnswerHold({ 'val-a': host.sshd.answerHold!.dir });
 *   await hold.arm();
 *   for (const answer of await hold.held()) if (!isHostWrite(answer.argv)) await hold.release(answer);
 *   await hold.disarm();   // and releases everything still held
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface HeldAnswer {
  host: string;
  /** The command as the worker built it (exec.ts's process-group wrapper taken off). */
  argv: string[];
  file: string;
}

export class SshAnswerHold {
  constructor(private readonly dirs: Record<string, string>) {}

  async arm(): Promise<void> {
    for (const dir of Object.values(this.dirs)) await writeFile(path.join(dir, 'armed'), '');
  }

  async disarm(): Promise<void> {
    for (const dir of Object.values(this.dirs)) await rm(path.join(dir, 'armed'), { force: true });
    for (const answer of await this.held()) await this.release(answer);
  }

  /** The commands that have run and wait for their answer to be let through, oldest first. */
  async held(): Promise<HeldAnswer[]> {
    const found: (HeldAnswer & { at: number })[] = [];
    for (const [host, dir] of Object.entries(this.dirs)) {
      if (!existsSync(dir)) continue;
      for (const name of await readdir(dir)) {
        if (!/^held\.\d+$/.test(name)) continue;
        const file = path.join(dir, name);
        const content = await readFile(file, 'utf8').catch(() => undefined);
        if (content === undefined) continue;
        const argv = content.split('\0').slice(0, -1);
        found.push({ host, argv: withoutGroupWrapper(argv), file, at: Number(name.slice(5)) });
      }
    }
    return found.sort((a, b) => a.at - b.at).map(({ host, argv, file }) => ({ host, argv, file }));
  }

  async release(answer: HeldAnswer): Promise<void> {
    await rm(answer.file, { force: true });
  }
}

/** src/ssh/exec.ts runs every argv as `setsid -w sh -c <wrapper> vup-exec <argv…>`. */
function withoutGroupWrapper(argv: string[]): string[] {
  const at = argv.indexOf('vup-exec');
  return argv[0] === 'setsid' && at > 0 ? argv.slice(at + 1) : argv;
}

/** The scripts of src/ssh and src/near that change a host (by the name they run under, `sh -c script NAME`). */
const WRITING_SCRIPTS = new Set([
  'vup-generate-validator-key',
  'vup-install',
  'vup-install-key',
  'vup-mkdir',
  'vup-park',
  'vup-reload-key',
  'vup-swap-in-one',
  'vup-swap-rename',
  'vup-withdraw',
  'vup-write-file',
]);
const SERVICE_WRITES = new Set(['start', 'stop', 'restart', 'kill']);
/** Plain commands the workflows run that change a host (the binary's backup is a `cp`, a key put back a `mv`). */
const PLAIN_WRITES = new Set(['cp', 'mv', 'rm', 'ln', 'install']);

/** What a command is, in a few words: the script's name, or the service manager's action and service. */
export function commandName(argv: string[]): string {
  const args = argv[0] === 'sudo' && argv[1] === '-n' ? argv.slice(2) : argv;
  if (args[0] === 'sh' && args[1] === '-c') return args[3] ?? 'sh';
  const ctl = args.findIndex((a) => a.endsWith('service-ctl.ts'));
  if (ctl >= 0) return `service-ctl ${args[ctl + 1]} ${args[ctl + 2]}`;
  if (args[0] === 'systemctl') return `systemctl ${args[1]} ${args.at(-1)}`;
  return args.slice(0, 2).join(' ');
}

/** Does the command change the host (start or stop a service, write, move or install a file or a key)? */
export function isHostWrite(argv: string[]): boolean {
  const name = commandName(argv);
  const [word, action] = name.split(' ');
  if (word === 'service-ctl' || word === 'systemctl') return SERVICE_WRITES.has(action ?? '');
  return WRITING_SCRIPTS.has(name) || PLAIN_WRITES.has(word ?? '');
}
