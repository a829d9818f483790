/**
 * The polkadotValidatorSwapUpgrade input: the example passes the zod schema and the committed JSON Schema
 * (a real JSON Schema validator), defaults are filled in, and wrong inputs get messages naming the field.
 */
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { polkadotValidatorSwapInput } from '../../../src/api/polkadot-inputs.js';
import { checkUpgradeInput } from '../../../src/client/upgrades.js';
import { repoRoot } from '../../../src/repo-root.js';

const readJson = async (...parts: string[]) =>
  JSON.parse(await readFile(path.join(repoRoot(), ...parts), 'utf8')) as Record<string, unknown>;
const example = () => readJson('examples', 'polkadot-validator-swap.input.json');

function messages(input: unknown): string {
  const parsed = polkadotValidatorSwapInput.safeParse(input);
  if (parsed.success) throw new Error('expected the input to be refused');
  return z.prettifyError(parsed.error);
}

describe('polkadotValidatorSwapUpgrade input', () => {
  it('accepts the example with the zod schema and the committed JSON Schema, and nothing extra', async () => {
    const input = await example();
    const parsed = polkadotValidatorSwapInput.safeParse(input);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(await readJson('schemas', 'polkadotValidatorSwapUpgrade.input.schema.json'));
    expect(validate(input) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...input, stashSeed: '//Alice//stash' })).toBe(false);
  });

  it('hands back by default and turns the waits into milliseconds', async () => {
    const { handBack: _h, timeouts: _t, manualApproval: _m, ...rest } = await example();
    const parsed = polkadotValidatorSwapInput.parse(rest);
    expect(parsed.handBack).toBe(true);
    expect(parsed.manualApproval).toBe(false);
    expect(parsed.timeouts).toEqual({ sync: 2 * 86_400_000, keysActive: 86_400_000 });
  });

  it('needs a release for A when handing back, but not when A is decommissioned', async () => {
    const { release: _r, ...withoutRelease } = await example();
    expect(messages(withoutRelease)).toContain('handing back to A needs the release to install on A');
    expect(polkadotValidatorSwapInput.safeParse({ ...withoutRelease, handBack: false }).success).toBe(true);
  });

  it('refuses B being A', async () => {
    const input = await example();
    expect(messages({ ...input, nodeA: 'dot-a', nodeB: 'dot-a' })).toContain('nodeB must be another node than nodeA');
  });

  it('takes a stash in one form only, its network’s: the same account written another way is refused', async () => {
    const input = await example();
    const { stash } = (input as { validator: { stash: string } }).validator;
    const generic = encodeAddress(decodeAddress(stash), 42);
    expect(checkUpgradeInput('polkadotValidatorSwapUpgrade', input).workflowId).toContain(stash);
    // The SDK and the CLI refuse it before anything starts; the workflow does too (test/workflows/polkadot-swap).
    expect(() =>
      checkUpgradeInput('polkadotValidatorSwapUpgrade', {
        ...input,
        validator: { network: 'polkadot', stash: generic },
      }),
    ).toThrow('validator.stash: must be written for polkadot (SS58 prefix 0), not prefix 42');
    // A wrong checksum is refused in the sandbox too (blake2b, not only the shape).
    const last = stash.at(-1) === 'A' ? 'B' : 'A';
    expect(messages({ ...input, validator: { network: 'polkadot', stash: `${stash.slice(0, -1)}${last}` } })).toContain(
      'with a valid checksum',
    );
  });

  it('names the field and the problem when an input is wrong', async () => {
    const input = await example();
    const text = messages({
      ...input,
      validator: { network: 'polkadot', stash: '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d' },
      setKeys: { submitTo: 'relay' },
      release: { staged: 'polkadot', sha256: 'abc', installTo: '/usr/local/bin/polkadot' },
    });
    expect(text).toContain('→ at validator.stash');
    expect(text).toContain('must be an SS58 address of an account');
    // Where keys are set, by whom, and where a release goes are the inventory's to say, not an input's.
    expect(text).toMatch(/Unrecognized key: "setKeys"/);
    expect(text).toMatch(/Unrecognized key: "installTo"/);
    expect(text).toContain('→ at release.staged');
    expect(text).toContain('must be an absolute path');
    expect(text).toContain('→ at release.sha256');
  });
});
