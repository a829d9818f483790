/**
 * The workflow bundle's entry: every strategy workflow the worker serves is exported here, one file per
 * strategy (DESIGN.md). The shared machinery lives in ./common.
 */
export { nearZeroDowntimeUpgrade } from './near-zero-downtime.js';
export { nearSyncAndSwapUpgrade } from './near-sync-and-swap.js';
export { nearStopAndRestartUpgrade } from './near-stop-and-restart.js';
export { nearValidatorKeyHotSwap } from './near-key-hot-swap.js';
export { polkadotValidatorSwapUpgrade } from './polkadot-validator-swap.js';
export { preflightUpgrade } from './preflight.js';
export { fleetUpgrade } from './fleet-upgrade.js';
