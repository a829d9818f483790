/**
 * What a namespace needs before upgrades can run on it, in the words of the command that gives it: the
 * worker refuses to start without it (worker/cluster-check.ts) and `vup` says it when the server refuses
 * a start or a list for a search attribute it does not know.
 */
import { upgradeSearchAttributes } from '../api/search-attributes.js';

/**
 * The `temporal operator search-attribute create` command that registers the named search attributes (all
 * of the project's by default). Without `namespace` the command uses TEMPORAL_NAMESPACE or the profile's,
 * as `vup` does.
 */
export function createSearchAttributesCommand(
  namespace?: string,
  names: string[] = upgradeSearchAttributes.map((k) => k.name),
): string {
  return [
    'temporal operator search-attribute create',
    ...(namespace ? [`--namespace ${namespace}`] : []),
    // The CLI pairs each --name with a --type (one --type for several names adds only the first).
    ...names.map((n) => `--name ${n} --type Keyword`),
  ].join(' ');
}
