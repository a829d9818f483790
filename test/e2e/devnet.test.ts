/**
 * `npm run devnet` as a newcomer runs it: devnet/main.ts as a child process, until it prints its endpoints.
 * The NEAR RPC it printed answers `status`, the Polkadot relay RPC answers `system_chain`, the inventories it
 * wrote load; Ctrl-C (SIGINT) then stops it, and none of its sshd hosts or node processes is left running.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import WebSocket from 'ws';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { startProcess, type ManagedProcess } from '../../devnet/stack/processes.js';

let devnet: ManagedProcess | undefined;

afterAll(async () => {
  await devnet?.kill();
});

function printed(output: string, label: string): string[] {
  return [...output.matchAll(new RegExp(`^  ${label}\\s+(\\S+)`, 'gm'))].map((m) => m[1]!);
}

async function nearStatus(url: string): Promise<{ chain_id: string; sync_info: { latest_block_height: number } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'devnet-test', method: 'status', params: [] }),
  });
  const body = (await response.json()) as { result: { chain_id: string; sync_info: { latest_block_height: number } } };
  return body.result;
}

function polkadotCall(url: string, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] })));
    socket.once('message', (data: Buffer) => {
      socket.close();
      resolve((JSON.parse(data.toString()) as { result: unknown }).result);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts both networks with their hosts, answers at the printed endpoints, and Ctrl-C leaves nothing running', async () => {
  const root = repoRoot();
  const tsx = createRequire(path.join(root, 'package.json')).resolve('tsx');
  devnet = startProcess('devnet', process.execPath, ['--import', tsx, path.join(root, 'devnet', 'main.ts')], {
    cwd: root,
  });
  await devnet.waitFor(/devnet ready/, 240_000);
  const output = devnet.output();

  const [nearRpc] = printed(output, 'NEAR RPC');
  const status = await nearStatus(nearRpc!);
  expect(status.chain_id).toBe('localnet');
  expect(status.sync_info.latest_block_height).toBeGreaterThan(0);
  const [relayRpc] = printed(output, 'relay RPC');
  expect(await polkadotCall(relayRpc!, 'system_chain')).toEqual(expect.any(String));

  const inventories = printed(output, 'inventory');
  expect(inventories).toHaveLength(2);
  const [near, polkadot] = await Promise.all(inventories.map((file) => loadInventory(file)));
  expect(near!.validators.map((v) => v.chain)).toEqual(['near']);
  expect(polkadot!.validators.map((v) => v.chain)).toEqual(['polkadot']);

  const sshdPids = [...output.matchAll(/sshd pid (\d+), disk (\S+)\)/g)].map((m) => Number(m[1]));
  const disks = [...output.matchAll(/sshd pid \d+, disk (\S+)\)/g)].map((m) => m[1]!);
  expect(sshdPids).toHaveLength(4);
  const processesOnDisks = () =>
    execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => disks.some((disk) => line.includes(path.dirname(disk))));
  // The validators' nodes run, as services on the hosts' disks.
  expect(processesOnDisks().length).toBeGreaterThanOrEqual(2);

  expect(devnet.signal('SIGINT')).toBe(true);
  expect(await devnet.exited).toBeNull();
  expect(devnet.output()).toContain('devnet: stopped');
  expect(sshdPids.filter(alive)).toEqual([]);
  expect(processesOnDisks()).toEqual([]);
  expect(inventories.filter((file) => existsSync(file))).toEqual([]);
}, 360_000);
