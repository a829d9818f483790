/**
 * Loaded once per workflow thread and shared by every run it holds (the SDK's `preloadModules`, see
 * worker/create-worker.ts): the libraries the workflows import, pure code with no state of a run. Without it
 * each cached run evaluated them again in its own module cache (zod alone was half of what a waiting run held).
 *
 * The SDK deep-freezes what it shares, so nothing here may keep state a run changes. zod's lazy globals (its
 * default locale and memoizer, in globalThis.__zod_globalConfig) are set here, before the freeze, by building
 * one schema of each kind that sets them. Our own schemas (src/api) stay per run: zod memoizes onto a schema
 * the first time it is used, which a frozen schema refuses.
 */
import { blake2b } from '@noble/hashes/blake2b';
import { base58, base64 } from '@scure/base';
import { z } from 'zod';

z.object({ list: z.array(z.string()) });

/** Referenced, so no bundler drops an import it thinks unused. */
export const sharedLibraries = { z, blake2b, base58, base64 };
