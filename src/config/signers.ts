/**
 * Signer references: where the worker finds a key at run time, never the key itself. Zod only, so the
 * inventory and the workflow inputs share them.
 */
import { z } from 'zod';
import { absolutePath, envVarName, identifier } from './primitives.js';

export const envSignerSchema = z
  .strictObject({
    id: identifier,
    type: z.literal('env'),
    variable: envVarName.describe(
      'Environment variable of the worker holding the key: a NEAR secret key ("ed25519:…") or a Substrate secret URI (mnemonic or seed, with an optional derivation path).',
    ),
  })
  .describe("A key held in an environment variable of the worker's process.");

export const fileSignerSchema = z
  .strictObject({
    id: identifier,
    type: z.literal('file'),
    path: absolutePath.describe(
      'A key file on the worker\'s machine: NEAR credentials JSON ({"account_id", "public_key", "private_key"}) or a polkadot-js JSON keystore export.',
    ),
    passphraseEnv: envVarName
      .optional()
      .describe('For an encrypted polkadot-js JSON keystore: the environment variable holding its password.'),
  })
  .describe("A key file on the worker's machine.");

export const keystoreDirSignerSchema = z
  .strictObject({
    id: identifier,
    type: z.literal('keystore-dir'),
    path: absolutePath.describe(
      'A near-cli credentials folder (like ~/.near-credentials): the key is read from <path>/<network>/<account id>.json.',
    ),
  })
  .describe('A near-cli credentials folder (NEAR only).');

export const signerSchema = z.discriminatedUnion('type', [envSignerSchema, fileSignerSchema, keystoreDirSignerSchema]);

export type SignerSpec = z.infer<typeof signerSchema>;
