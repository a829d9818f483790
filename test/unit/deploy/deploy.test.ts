/**
 * What docker-compose.yml and deploy/ deploy, checked without a Docker engine: the compose file by Debian's
 * docker-compose (`config -q`, its Compose Specification schema), the server's configuration rendered and
 * validated by the Temporal server the production twin runs, the dynamic configuration by the same server,
 * the Prometheus configuration by promtool, the systemd unit by systemd-analyze, and what the file must
 * promise (pinned images, secrets only as files, the search attributes of src/api/search-attributes.ts).
 * .ci/run installs docker-compose, prometheus (promtool) and systemd; a missing tool fails the test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { upgradeSearchAttributes } from '../../../src/api/search-attributes.js';
import { repoRoot } from '../../../src/repo-root.js';

const run = promisify(execFile);
const root = repoRoot();
const deploy = (...p: string[]) => path.join(root, 'deploy', ...p);

async function tool(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    return await run(name, args, { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${name} is not installed (bash .ci/run installs it)`);
    throw new Error(`${name} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | null>;
  secrets?: { source: string }[];
  volumes?: string[];
  ports?: unknown[];
  depends_on?: Record<string, { condition: string }>;
}

let compose: { services: Record<string, ComposeService>; secrets: Record<string, { file: string }> };

beforeAll(async () => {
  // The file as docker-compose understands it, after its own validation (exit 0 of `config -q` first).
  await tool('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
  const { stdout } = await tool('docker-compose', ['-f', 'docker-compose.yml', 'config']);
  compose = parse(stdout) as typeof compose;
});

describe('docker-compose.yml', () => {
  it('runs the whole stack, each step after the one it needs', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(
      ['postgresql', 'prometheus', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
    );
    expect(s['temporal-schema']!.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(s.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(s['temporal-namespace']!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(s.worker!.depends_on).toEqual({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
  });

  it('pins every image to a release: PostgreSQL 16, the Temporal server 1.30, the worker built from deploy/Dockerfile', () => {
    const images = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, s.image]));
    for (const [name, image] of Object.entries(images)) {
      expect([name, image]).toEqual([name, expect.stringMatching(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/)]);
    }
    expect(images.postgresql).toMatch(/^postgres:16\.\d+/);
    expect(images.temporal).toMatch(/^temporalio\/server:1\.30\.\d+$/);
    expect(images['temporal-schema']).toBe(images.temporal!.replace('server', 'admin-tools'));
    expect(images['temporal-ui']).toMatch(/^temporalio\/ui:/);
    expect(compose.services.worker!.build).toMatchObject({ dockerfile: 'deploy/Dockerfile' });
  });

  it('hands secrets over as files only: no password, key or token in any environment variable', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|PWD|SECRET|TOKEN|API_KEY|PRIVATE/i.test(key)) {
          expect([name, key, value]).toEqual([name, key, expect.stringMatching(/^\/run\/secrets\//)]);
        }
      }
    }
    const sources = (service: string) => (compose.services[service]!.secrets ?? []).map((s) => s.source).sort();
    expect(sources('worker')).toEqual(['inventory', 'ssh_key']);
    expect(sources('temporal')).toEqual(['postgres_password']);
    expect(compose.services.worker!.volumes).toContainEqual(expect.stringMatching(/\/signers:\/etc\/vup\/signers:ro$/));
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toContain(deploy('secrets'));
  });

  it('mounts the deploy/ configuration files the production twin runs on, and publishes ports on loopback only', () => {
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    for (const file of ['temporal/config.yaml', 'temporal/dynamicconfig.yaml', 'prometheus', 'tls', 'temporal.toml']) {
      expect(mounts).toContainEqual(expect.stringMatching(new RegExp(`^${deploy(file)}:`)));
    }
    const published = Object.values(compose.services).flatMap((s) => (s.ports ?? []) as string[]);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+/);
  });
});

describe('deploy/', () => {
  it('the namespace step registers exactly the search attributes the workflows upsert', async () => {
    const script = await readFile(deploy('temporal', 'create-namespace.sh'), 'utf8');
    const listed = /^search_attributes="([^"]*)"$/m.exec(script)?.[1]?.split(' ');
    expect(listed).toEqual(upgradeSearchAttributes.map((k) => k.name));
    expect(script).toContain('--type Keyword');
  });

  it('the server configuration renders and validates in the Temporal server, with TLS on the frontend', async () => {
    const server = process.env.TEMPORAL_SERVER_PATH;
    if (!server) throw new Error('no Temporal server build: run `npm run servers` (needs Go)');
    // render-config reads the legacy config folder: a folder whose development.yaml is the deploy/ file.
    const dir = await mkdtemp(path.join(tmpdir(), 'vup-deploy-config-'));
    try {
      await symlink(deploy('temporal', 'config.yaml'), path.join(dir, 'development.yaml'));
      const env = { POSTGRES_PWD: 'not-printed', TEMPORAL_TLS_DIR: '/tls', FRONTEND_GRPC_PORT: '17233' };
      const { stdout } = await tool(server, ['--config', dir, 'render-config'], env);
      expect(stdout).not.toContain('not-printed');
      expect(stdout).toMatch(/requireClientAuth: true/);
      expect(stdout).toMatch(/certFile: \/tls\/frontend\.pem/);
      expect(stdout).toMatch(/grpcPort: 17233/);
      expect(stdout).toMatch(/pluginName: postgres12/);
      // A broken file is refused: the check above can fail. (Replace the link, never write through it.)
      await rm(path.join(dir, 'development.yaml'));
      await writeFile(path.join(dir, 'development.yaml'), '# enable-template\npersistence: {{ nope }}\n');
      await expect(tool(server, ['--config', dir, 'render-config'], env)).rejects.toThrow(/Unable to load/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const { stdout } = await tool(server, ['validate-dynamic-config', deploy('temporal', 'dynamicconfig.yaml')]);
    expect(stdout).not.toMatch(/error|warning/);
  });

  it('prometheus.yml passes promtool and scrapes the server and the workers', async () => {
    const { stdout } = await tool('promtool', ['check', 'config', deploy('prometheus', 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS');
    const config = parse(await readFile(deploy('prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(['temporal', 'validator-upgrades-worker']);
  });

  it('the systemd unit passes systemd-analyze verify without a warning', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vup-systemd-'));
    try {
      const unit = path.join(dir, 'vup-worker.service');
      await writeFile(unit, await readFile(deploy('systemd', 'vup-worker.service')));
      const { stderr } = await tool('systemd-analyze', ['verify', unit]);
      expect(stderr).toBe('');
      // A broken unit is reported (on stderr, exit 0): the check above can fail.
      await writeFile(unit, (await readFile(unit, 'utf8')).replace('Type=simple', 'Type=bogus'));
      expect((await tool('systemd-analyze', ['verify', unit])).stderr).toMatch(/service type/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the Dockerfile builds in one stage and runs dist/worker/main.js on production dependencies as a non-root user', async () => {
    const dockerfile = await readFile(deploy('Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-/m);
    const last = stages[stages.length - 1]!;
    expect(last).toMatch(/^USER (?!root)\w+/m);
    expect(last).toContain('ENTRYPOINT ["node", "dist/worker/main.js"]');
    expect(last).not.toMatch(/npm (install|ci)(?!.*--omit=dev)/);
    expect(dockerfile).toMatch(/npm install --omit=dev/);
    // The worker runs on jemalloc (worker/allocator.ts): installed in the stage it runs in, preloaded from where it links it.
    const preload = /^ENV LD_PRELOAD=(\S+)$/m.exec(last)?.[1];
    expect(preload).toMatch(/libjemalloc\.so\.2$/);
    expect(last).toMatch(/apt-get install[^\n]* libjemalloc2/);
    expect(last).toContain(`ln -s "$(dpkg -L libjemalloc2 | grep '/libjemalloc.so.2$')" ${preload}`);
    const build = JSON.parse(await readFile(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(build.include).toContain('worker');
  });
});
