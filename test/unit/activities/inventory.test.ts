/**
 * The worker's inventory at the activity boundary: resolveUpgradeTargets refuses, non-retryably and naming it,
 * a validator the inventory does not hold, an input that carries a host (the injection the trust boundary
 * closes) and a worker without an inventory; with an inventory, activities refuse a host or a signer that is
 * not the inventory's (an unknown id, or a known id with another address, user or service manager) before
 * any connection or key is touched.
 */
import path from 'node:path';
import { createActivities } from '../../../activities/index.js';
import { staticInventory } from '../../../src/config/inventory-source.js';
import type { HostSpecInput } from '../../../src/config/host.js';
import type { Inventory } from '../../../src/config/inventory.js';
import { loadInventory } from '../../../src/config/load-inventory.js';
import { repoRoot } from '../../../src/repo-root.js';
import type { SshConnectionProvider } from '../../../src/ssh/connection.js';
import { failureOf, MockActivityEnvironment } from '../../helpers/activity-environment.js';

let inventory: Inventory;
const reached: string[] = [];
/** Records every host an activity got as far as connecting to (none should). */
const connections: SshConnectionProvider = {
  get: (host) => {
    reached.push(host.id);
    return Promise.reject(new Error('no SSH in this test'));
  },
};
const run = <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().execute(activity, ...args);

beforeAll(async () => {
  inventory = await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml'));
});
beforeEach(() => {
  reached.length = 0;
});

const stopAndRestart = {
  validator: { network: 'mainnet', accountId: 'mypool.poolv1.near' },
  release: { staged: '/var/tmp/neard', sha256: 'ab'.repeat(32) },
};

describe('resolveUpgradeTargets', () => {
  it('resolves the validator’s nodes from the worker’s inventory', async () => {
    const { resolveUpgradeTargets } = createActivities({ connections, inventory: staticInventory(inventory) });
    const targets = await run(resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: stopAndRestart });
    expect(targets).toMatchObject({ node: { host: { id: 'near-a' } }, networkRpcUrl: 'https://rpc.mainnet.near.org' });
    // No webhook in the example inventory: the run is told its events go nowhere (it schedules no notify).
    expect(targets.webhookEvents).toEqual([]);
  });

  it('says which events the webhooks take, with the targets and with a refusal', async () => {
    const withHooks = staticInventory({
      ...inventory,
      notifications: {
        webhooks: [
          { id: 'ends', url: { env: 'A' }, format: 'json', events: ['completed', 'failed'] },
          { id: 'gates', url: { env: 'B' }, format: 'slack', events: ['awaiting-approval', 'failed'] },
        ],
      },
    });
    const { resolveUpgradeTargets } = createActivities({ connections, inventory: withHooks });
    const targets = await run(resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: stopAndRestart });
    expect(targets.webhookEvents).toEqual(['awaiting-approval', 'failed', 'completed']);
    const other = { ...stopAndRestart, validator: { network: 'mainnet', accountId: 'other.poolv1.near' } };
    const refused = await failureOf(
      run(resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: other }),
    );
    expect(refused).toMatchObject({ type: 'NotInInventory', details: [{ webhookEvents: targets.webhookEvents }] });
  });

  it('refuses an input that brings its own host and command template, naming the field', async () => {
    const { resolveUpgradeTargets } = createActivities({ connections, inventory: staticInventory(inventory) });
    const injected = {
      ...stopAndRestart,
      node: {
        host: {
          ...inventory.hosts[0],
          serviceManager: { type: 'commands', start: ['id'], stop: ['id'], isActive: ['id'] },
        },
        home: '/root',
        service: 'neard',
        rpcUrl: 'http://127.0.0.1:3030',
        binary: '/bin/sh',
      },
    };
    const failure = await failureOf(
      run(resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: injected }),
    );
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.message).toContain('→ at node');
    expect(reached).toEqual([]);
  });

  it('refuses a validator the inventory does not hold, and a worker without an inventory', async () => {
    const withInventory = createActivities({ connections, inventory: staticInventory(inventory) });
    const other = { ...stopAndRestart, validator: { network: 'mainnet', accountId: 'other.poolv1.near' } };
    const unknown = await failureOf(
      run(withInventory.resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: other }),
    );
    expect(unknown).toMatchObject({ type: 'NotInInventory', nonRetryable: true });
    expect(unknown.message).toBe("validator: other.poolv1.near on mainnet is not in the worker's inventory");

    const without = createActivities({ connections });
    const none = await failureOf(
      run(without.resolveUpgradeTargets, { strategy: 'nearStopAndRestartUpgrade', input: stopAndRestart }),
    );
    expect(none).toMatchObject({ type: 'NotInInventory', nonRetryable: true });
    expect(none.message).toContain('this worker has no inventory (VUP_INVENTORY)');
  });
});

describe('every host and signer an activity is handed', () => {
  it('must be the inventory’s exactly: an unknown host, or a known id on another address or with a command template, is refused before connecting', async () => {
    const { isServiceActive } = createActivities({ connections, inventory: staticInventory(inventory) });
    const listed = inventory.hosts[0]!;
    const cases: [HostSpecInput, string][] = [
      [{ ...listed, id: 'elsewhere' }, 'host "elsewhere" is not in the worker\'s inventory'],
      [{ ...listed, address: 'attacker.example.net' }, `host "${listed.id}" differs from the worker's inventory entry`],
      [
        { ...listed, serviceManager: { type: 'commands', start: ['id'], stop: ['id'], isActive: ['id'] } },
        `host "${listed.id}" differs from the worker's inventory entry`,
      ],
    ];
    for (const [host, message] of cases) {
      const failure = await failureOf(run(isServiceActive, { host, service: 'neard' }));
      expect(failure).toMatchObject({ type: 'NotInInventory', nonRetryable: true, message });
    }
    expect(reached).toEqual([]);
    // The inventory's own host goes through (to the connection, which this test does not have).
    await run(isServiceActive, { host: listed, service: 'neard' }).catch(() => undefined);
    expect(reached).toEqual([listed.id]);
  });

  it('a signer the inventory does not list is refused before it is read', async () => {
    const { checkNearSigner } = createActivities({ connections, inventory: staticInventory(inventory) });
    const failure = await failureOf(
      run(checkNearSigner, {
        signer: { id: 'planted', type: 'file', path: '/etc/shadow' },
        networkId: 'mainnet',
        accountId: 'mypool-owner.near',
      }),
    );
    expect(failure).toMatchObject({ type: 'NotInInventory', nonRetryable: true });
    expect(failure.message).toBe('signer "planted" is not in the worker\'s inventory');
  });
});

describe('resolveFleetMembers', () => {
  const targets = {
    near: { strategy: 'nearStopAndRestartUpgrade' as const, release: stopAndRestart.release },
    polkadot: { strategy: 'polkadotValidatorSwapUpgrade' as const },
  };
  const resolve = (input: Parameters<ReturnType<typeof createActivities>['resolveFleetMembers']>[0]) =>
    run(createActivities({ connections, inventory: staticInventory(inventory) }).resolveFleetMembers, input);

  it('selects by chain, each member with the input and upgrade id `vup start` would use, and its network RPC', async () => {
    const { members, networks } = await resolve({ select: { chain: 'near' }, targets });
    expect(members.map((m) => [m.id, m.strategy, m.workflowId])).toEqual([
      ['mypool', 'nearStopAndRestartUpgrade', 'upgrade-near-mainnet-mypool.poolv1.near'],
    ]);
    expect(members[0]!.input).toEqual(stopAndRestart);
    expect(networks).toEqual([{ chain: 'near', network: 'mainnet', rpcUrl: 'https://rpc.mainnet.near.org' }]);
    expect(reached).toEqual([]);
  });

  it('refuses an unknown id, a selection that matches nothing, and a chain without a target, naming the field', async () => {
    await expect(failureOf(resolve({ select: { ids: ['nope'] }, targets }))).resolves.toMatchObject({
      type: 'NotInInventory',
      message: expect.stringMatching(/^select\.ids: no validator "nope"/) as string,
    });
    await expect(failureOf(resolve({ select: { labels: ['nowhere'] }, targets }))).resolves.toMatchObject({
      message: expect.stringMatching(/^select: no validator/) as string,
    });
    await expect(failureOf(resolve({ select: {}, targets: { near: targets.near } }))).resolves.toMatchObject({
      message: expect.stringMatching(/^targets\.polkadot: validator "dot-validator"/) as string,
    });
  });
});
