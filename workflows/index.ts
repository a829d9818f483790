/**
 * The workflow bundle's entry: every strategy workflow the worker serves is exported here, one file per
 * strategy (DESIGN.md). The shared machinery lives in ./common.
 */
export {};
