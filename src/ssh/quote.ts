/**
 * Remote commands are built only from argv arrays. OpenSSH hands the remote side one command string that the
 * user's login shell parses, so every element is POSIX single-quoted: inside single quotes nothing is special
 * (not `$`, backticks, `\`, globs or newlines) except the quote itself, written as `'\''`.
 * The login shell must be a POSIX shell (sh, dash, bash, zsh, ksh); csh-family shells are not supported.
 */
import { HostError } from './errors.js';

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new HostError('BadInput', 'a remote command argument cannot contain a NUL byte');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new HostError('BadInput', 'a remote command needs at least the program name');
  return argv.map(quoteArg).join(' ');
}
