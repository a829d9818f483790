/**
 * How the worker holds its runs (worker/create-worker.ts workflowWorkerSettings): one reused V8 context and a
 * cache size chosen on purpose (docs/operating.md, "How many upgrades one worker holds"), from
 * VUP_MAX_CACHED_RUNS when set; a value that is not a whole number stops the worker naming the variable.
 */
import { DEFAULT_MAX_CACHED_RUNS, workflowWorkerSettings } from '../../../worker/create-worker.js';

it('caches DEFAULT_MAX_CACHED_RUNS runs in one reused context unless VUP_MAX_CACHED_RUNS says otherwise', () => {
  expect(workflowWorkerSettings({})).toEqual({ maxCachedWorkflows: DEFAULT_MAX_CACHED_RUNS, reuseV8Context: true });
  expect(workflowWorkerSettings({ VUP_MAX_CACHED_RUNS: '300' }).maxCachedWorkflows).toBe(300);
});

it('refuses a cache size that is not a whole number, naming the variable', () => {
  expect(() => workflowWorkerSettings({ VUP_MAX_CACHED_RUNS: 'lots' })).toThrow(/VUP_MAX_CACHED_RUNS=lots/);
  expect(() => workflowWorkerSettings({ VUP_MAX_CACHED_RUNS: '-1' })).toThrow(/VUP_MAX_CACHED_RUNS=-1/);
});
