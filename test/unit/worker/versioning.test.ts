/**
 * The worker's Worker Deployment options (worker/versioning.ts): off without a deployment name, pinned when
 * on, the build id given or derived from the workflow code, and names the server could not take refused at
 * start rather than at the first poll.
 */
import { deploymentOptions, defaultBuildId } from '../../../worker/versioning.js';

const code = () => 'function workflow() {}';

it('is off without a deployment name, and refuses a build id without one', () => {
  expect(deploymentOptions({}, code)).toBeUndefined();
  expect(deploymentOptions({ deploymentName: '  ' }, code)).toBeUndefined();
  expect(() => deploymentOptions({ buildId: 'b1' }, code)).toThrow('a build id needs a deployment name');
});

it('pins runs to the given build', () => {
  expect(deploymentOptions({ deploymentName: 'validator-upgrades', buildId: '2026.12.05+abc' }, code)).toEqual({
    version: { deploymentName: 'validator-upgrades', buildId: '2026.12.05+abc' },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  });
});

it('derives the build id from the package version and the workflow code: same code, same id', () => {
  const id = deploymentOptions({ deploymentName: 'd' }, code)!.version.buildId;
  expect(id).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
  expect(id).toBe(defaultBuildId(code()));
  expect(defaultBuildId('function workflow() { return 1; }')).not.toBe(id);
  expect(defaultBuildId(code(), '1.2.3')).toMatch(/^1\.2\.3-/);
});

it('refuses a deployment name with a dot (versions are <name>.<build id>) and odd characters', () => {
  expect(() => deploymentOptions({ deploymentName: 'a.b' }, code)).toThrow('deployment name "a.b" may hold only');
  expect(() => deploymentOptions({ deploymentName: 'd', buildId: 'x y' }, code)).toThrow(
    'build id "x y" may hold only',
  );
});
