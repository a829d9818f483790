/**
 * Loaded once per workflow thread and shared by every run it holds (the SDK's `preloadModules`, see
 * worker/create-worker.ts): the libraries the workflows import, and our own input and contract schemas
 * (src/api, src/config), pure code and data with no state of a run. Without it each cached run evaluated them
 * again in its own module cache: zod and then our schemas were most of what a waiting run held.
 *
 * The SDK deep-freezes what it shares, so that no run can leave state there for the next. zod's lazy globals
 * (its default locale and memoizer, in globalThis.__zod_globalConfig) are set here, before the freeze, by
 * building one schema of each kind that sets them. A zod schema cannot be frozen: parsing writes onto it
 * (bound methods and derived internals made on first use, the memoizer putting back a schema's own parse, and
 * a `.regex()` check resetting its RegExp's lastIndex, which a frozen RegExp refuses). So the export objects
 * of our schema modules are frozen here, one level deep: the SDK's freeze stops at an object already frozen,
 * and the schemas under them stay writable. What parsing writes there is the same for every run (caches of
 * the schema itself), never a run's input or state. src/api/messages.ts is not here: it imports
 * @temporalio/workflow, whose module must stay per run (so it holds the message definitions, and no schema).
 */
import { blake2b } from '@noble/hashes/blake2b';
import { base58, base64 } from '@scure/base';
import { z } from 'zod';
import * as chainObservation from '../src/api/chain-observation.js';
import * as activityContracts from '../src/api/contracts/activity.js';
import * as nearContracts from '../src/api/contracts/near.js';
import * as polkadotContracts from '../src/api/contracts/polkadot.js';
import * as deadline from '../src/api/deadline.js';
import * as fleet from '../src/api/fleet.js';
import * as errorText from '../src/api/error-text.js';
import * as identity from '../src/api/identity.js';
import * as nearInputs from '../src/api/near-inputs.js';
import * as plans from '../src/api/plans.js';
import * as polkadotInputs from '../src/api/polkadot-inputs.js';
import * as preflight from '../src/api/preflight.js';
import * as searchAttributes from '../src/api/search-attributes.js';
import * as signerEvidence from '../src/api/signer-evidence.js';
import * as strategies from '../src/api/strategies.js';
import * as validatorCounters from '../src/api/validator-counters.js';
import * as host from '../src/config/host.js';
import * as identities from '../src/config/identities.js';
import * as primitives from '../src/config/primitives.js';
import * as signers from '../src/config/signers.js';
import * as ss58 from '../src/config/ss58.js';
import * as sshHostKey from '../src/config/ssh-host-key.js';

z.object({ list: z.array(z.string()) });

/** Every module of ours the workflows import (and what those import), so none is evaluated again per run. */
const ourModules = [
  chainObservation,
  activityContracts,
  nearContracts,
  polkadotContracts,
  deadline,
  fleet,
  errorText,
  identity,
  nearInputs,
  plans,
  polkadotInputs,
  preflight,
  searchAttributes,
  signerEvidence,
  strategies,
  validatorCounters,
  host,
  identities,
  primitives,
  signers,
  ss58,
  sshHostKey,
];
for (const exports of ourModules) Object.freeze(exports);

/** Referenced, so no bundler drops an import it thinks unused. */
export const sharedLibraries = { z, blake2b, base58, base64, ourModules };
