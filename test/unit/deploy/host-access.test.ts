/**
 * deploy/hosts/: what the worker's SSH user `vup` may do on a validator host (docs/host-access.md).
 * The sudoers file passes `visudo -cf` and, read back by sudo's own parser (`cvtsudoers -f json`), grants
 * exactly the systemctl commands the code runs under `sudo -n` for the example inventory's services, and
 * nothing broader (no ALL, no wildcard, no other program or user). The sshd snippet passes `sshd -t` and
 * gives `vup` no terminal and no forwarding (`sshd -T` for that user). .ci/run installs sudo (visudo,
 * cvtsudoers) and openssh-server; a missing tool fails the test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadInventory } from '../../../src/config/load-inventory.js';
import { repoRoot } from '../../../src/repo-root.js';
import { serviceArgv, type ServiceAction } from '../../../src/ssh/service-control.js';

const run = promisify(execFile);
const root = repoRoot();
const sudoersFile = path.join(root, 'deploy', 'hosts', 'sudoers.d-vup');
const sshdSnippet = path.join(root, 'deploy', 'hosts', 'sshd_config.d-vup.conf');
const SYSTEMCTL = '/usr/bin/systemctl';

async function tool(name: string, args: string[]) {
  try {
    return await run(name, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${name} is not installed (bash .ci/run installs it)`);
    throw new Error(`${name} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface SudoersJson {
  Defaults?: unknown;
  Command_Aliases?: Record<string, { command?: string; negated?: boolean }[]>;
  User_Specs: {
    User_List: Record<string, unknown>[];
    Host_List: Record<string, unknown>[];
    Cmnd_Specs: {
      runasusers?: Record<string, unknown>[];
      runasgroups?: unknown;
      Options?: Record<string, unknown>[];
      Commands: { cmndalias?: string; command?: string; negated?: boolean }[];
    }[];
  }[];
}

let sudoers: SudoersJson;
/** Every command line `vup` may run through sudo, as sudo parsed it (aliases resolved). */
let granted: string[];

beforeAll(async () => {
  const { stdout } = await tool('cvtsudoers', ['-f', 'json', sudoersFile]);
  sudoers = JSON.parse(stdout) as SudoersJson;
  granted = sudoers.User_Specs.flatMap((spec) =>
    spec.Cmnd_Specs.flatMap((c) =>
      c.Commands.flatMap((cmd) => {
        if (cmd.negated) throw new Error('a negated command is not a restriction sudo can keep');
        if (cmd.command !== undefined) return [cmd.command];
        const alias = sudoers.Command_Aliases?.[cmd.cmndalias ?? ''];
        if (!alias) throw new Error(`unknown command alias ${cmd.cmndalias}`);
        return alias.map((a) => a.command ?? '(not a command)');
      }),
    ),
  );
});

/** The command line sudo sees for an argv the worker runs as `sudo -n <argv>`, or undefined without sudo. */
function underSudo(argv: string[]): string | undefined {
  if (argv[0] !== 'sudo') return undefined;
  expect(argv.slice(0, 3)).toEqual(['sudo', '-n', 'systemctl']);
  return [SYSTEMCTL, ...argv.slice(3)].join(' ');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !f.includes(`${path.sep}devnet${path.sep}`));
}

/** The argv literal of the SIGHUP reload in src/near/validator-key-transfer.ts, for one service. */
async function reloadArgv(service: string): Promise<string[]> {
  const source = await readFile(path.join(root, 'src', 'near', 'validator-key-transfer.ts'), 'utf8');
  const literal = /\['systemctl', 'kill', ([^\]]*)\]/.exec(source)?.[1];
  if (!literal) throw new Error('validator-key-transfer.ts no longer builds a `systemctl kill` argv');
  const rest = literal.split(',').map((s) => s.trim());
  const args = rest.map((s) => (s === 'input.service' ? service : /^'([^']*)'$/.exec(s)?.[1]));
  if (args.some((a) => a === undefined)) throw new Error(`cannot read the argv [${literal}]`);
  const argv = ['systemctl', 'kill', ...(args as string[])];
  return /input\.manager\.sudo \? \['sudo', '-n', \.\.\.argv\]/.test(source) ? ['sudo', '-n', ...argv] : argv;
}

describe('deploy/hosts/sudoers.d-vup', () => {
  it('passes visudo -cf', async () => {
    const { stdout } = await tool('visudo', ['-cf', sudoersFile]);
    expect(stdout).toContain('parsed OK');
  });

  it('grants vup, without a password and as root only, systemctl start|stop|kill on named units: no ALL, no wildcard', () => {
    expect(sudoers.Defaults).toBeUndefined();
    expect(sudoers.User_Specs).toHaveLength(1);
    const [spec] = sudoers.User_Specs;
    expect(spec!.User_List).toEqual([{ username: 'vup' }]);
    for (const c of spec!.Cmnd_Specs) {
      expect(c.runasusers).toEqual([{ username: 'root' }]);
      expect(c.runasgroups).toBeUndefined();
      expect(c.Options).toEqual([{ authenticate: false }]);
    }
    expect(granted.length).toBeGreaterThan(0);
    for (const command of granted) {
      expect(command).not.toMatch(/\bALL\b|[*?[\]]/);
      expect(command).toMatch(
        /^\/usr\/bin\/systemctl (start|stop|kill --signal=SIGHUP --kill-whom=main) -- [A-Za-z0-9][A-Za-z0-9_.@-]*$/,
      );
    }
  });

  it('allows every systemctl command the worker runs under sudo, for each service of the example inventory', async () => {
    const inventory = await loadInventory(path.join(root, 'examples', 'inventory.yaml'));
    const needed = new Set<string>();
    // A sync node never holds a key, so it is never told to reload one (the hot swap signals its primary and standby).
    const syncNodes = new Set(inventory.validators.flatMap((v) => (v.nodes.sync ? [v.nodes.sync] : [])));
    for (const node of inventory.nodes) {
      const host = inventory.hosts.find((h) => h.id === node.host)!;
      const manager = host.serviceManager;
      expect([host.id, host.user, manager]).toEqual([host.id, 'vup', { type: 'systemd', sudo: true }]);
      const actions: ServiceAction[] = ['start', 'stop', 'isActive'];
      for (const action of actions) {
        const command = underSudo(serviceArgv(manager, action, node.service));
        // is-active asks without sudo: a sudo failure must never read as "inactive".
        if (action === 'isActive') expect(command).toBeUndefined();
        else needed.add(command!);
      }
      if (node.chain === 'near' && !syncNodes.has(node.id)) needed.add(underSudo(await reloadArgv(node.service))!);
    }
    expect([...needed].sort()).toEqual([
      '/usr/bin/systemctl kill --signal=SIGHUP --kill-whom=main -- neard',
      '/usr/bin/systemctl start -- neard',
      '/usr/bin/systemctl start -- neard-sync',
      '/usr/bin/systemctl start -- polkadot-validator',
      '/usr/bin/systemctl stop -- neard',
      '/usr/bin/systemctl stop -- neard-sync',
      '/usr/bin/systemctl stop -- polkadot-validator',
    ]);
    for (const command of needed) expect(granted).toContain(command);
  });

  it('knows every systemctl verb in the code (a new one needs a rule here and in docs/host-access.md)', async () => {
    const verbs = new Set<string>();
    for (const dir of ['src', 'activities', 'worker', 'workflows']) {
      for (const file of await sourceFiles(dir)) {
        for (const m of (await readFile(file, 'utf8')).matchAll(/'systemctl',\s*([^,\]]+)/g)) {
          verbs.add(`${path.relative(root, file)}: ${m[1]}`);
        }
      }
    }
    expect([...verbs].sort()).toEqual([
      "src/near/validator-key-transfer.ts: 'kill'",
      // is-active runs without sudo; `action` is start or stop (ServiceAction, tested above)
      "src/ssh/service-control.ts: 'is-active'",
      'src/ssh/service-control.ts: action',
    ]);
  });
});

describe('deploy/hosts/sshd_config.d-vup.conf', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vup-sshd-'));
    await tool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
    config = path.join(dir, 'sshd_config');
    await writeFile(config, `HostKey ${path.join(dir, 'host_key')}\nInclude ${sshdSnippet}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const effective = async (user: string): Promise<Record<string, string>> => {
    const { stdout } = await tool('/usr/sbin/sshd', [
      '-T',
      '-f',
      config,
      '-C',
      `user=${user},host=worker,addr=10.0.0.5`,
    ]);
    return Object.fromEntries(
      stdout.split('\n').map((l): [string, string] => [l.split(' ')[0] ?? '', l.slice(l.indexOf(' ') + 1)]),
    );
  };

  it('passes sshd -t, and gives vup public-key exec only: no terminal, no forwarding of any kind', async () => {
    await tool('/usr/sbin/sshd', ['-t', '-f', config]);
    expect(await effective('vup')).toMatchObject({
      authenticationmethods: 'publickey',
      passwordauthentication: 'no',
      kbdinteractiveauthentication: 'no',
      permittty: 'no',
      allowtcpforwarding: 'no',
      allowstreamlocalforwarding: 'no',
      allowagentforwarding: 'no',
      x11forwarding: 'no',
      permittunnel: 'no',
      permituserrc: 'no',
    });
    // Only vup: the Match block leaves other users as the host has them.
    expect(await effective('alice')).toMatchObject({ permittty: 'yes' });
  });
});
