/**
 * What the worker checks about its cluster before it polls: the namespace exists and has the project's
 * search attributes (src/api/search-attributes.ts), with the right type. Without them every upgrade would
 * fail its first workflow task with BadSearchAttributes and hang; the worker refuses instead, with one line
 * that names what is missing and the command that creates it.
 */
import type { NativeConnection } from '@temporalio/worker';
import { upgradeSearchAttributes } from '../src/api/search-attributes.js';
import { createSearchAttributesCommand } from '../src/client/cluster.js';

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
/** temporal.api.enums.v1.IndexedValueType, by number (the proto package has no ESM named exports). */
const INDEXED_VALUE_TYPES = ['Unspecified', 'Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];
const KEYWORD = 2;

export class ClusterNotReady extends Error {
  override readonly name = 'ClusterNotReady';
}

export interface ClusterCheckResult {
  /** Said when a check could not be made (Temporal Cloud does not list search attributes to every key). */
  notes: string[];
}

const grpcCode = (err: unknown) => (err as { code?: unknown }).code;

export async function checkCluster(connection: NativeConnection, namespace: string): Promise<ClusterCheckResult> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) === GRPC_NOT_FOUND)
      throw new ClusterNotReady(
        `namespace "${namespace}" does not exist; create it with: temporal operator namespace create --namespace ${namespace}`,
      );
    throw err;
  }

  let registered: Record<string, number>;
  try {
    const answer = await connection.operatorService.listSearchAttributes({ namespace });
    registered = { ...(answer.customAttributes ?? {}), ...(answer.systemAttributes ?? {}) };
  } catch (err) {
    const code = grpcCode(err);
    if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED)
      return {
        notes: [
          `could not list the search attributes of namespace "${namespace}" (${(err as Error).message}); ` +
            `make sure ${upgradeSearchAttributes.map((k) => k.name).join(', ')} exist as Keyword`,
        ],
      };
    throw err;
  }

  const missing = upgradeSearchAttributes.map((k) => k.name).filter((name) => !(name in registered));
  const wrongType = upgradeSearchAttributes
    .map((k) => k.name)
    .filter((name) => name in registered && registered[name] !== KEYWORD);
  const problems: string[] = [];
  if (missing.length > 0)
    problems.push(
      `namespace "${namespace}" lacks the search attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
        `create ${missing.length > 1 ? 'them' : 'it'} with: ${createSearchAttributesCommand(namespace, missing)}`,
    );
  if (wrongType.length > 0)
    problems.push(
      `search attribute${wrongType.length > 1 ? 's' : ''} ${wrongType
        .map((n) => `${n} (${INDEXED_VALUE_TYPES[registered[n]!] ?? registered[n]})`)
        .join(', ')} of namespace "${namespace}" must be Keyword`,
    );
  if (problems.length > 0) throw new ClusterNotReady(problems.join('; '));
  return { notes: [] };
}
