/**
 * Checks across inventory entries: unique ids, one host entry per SSH endpoint, one node per RPC endpoint,
 * references that resolve, nodes and validators of the same chain, one validator per node, one inventory entry
 * per on-chain identity.
 *
 * They run on the raw input even when some fields are invalid (so every problem is reported in one go),
 * hence the defensive reads: a field that is not a valid id is skipped here, its own schema reports it.
 * Values are only quoted back once they are valid ids or public account names, never arbitrary text.
 */
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import {
  GENERIC_SS58_PREFIX,
  KNOWN_GENESIS_HASHES,
  chainName,
  genesisHash,
  isNearAccountId,
  nearNetwork,
  polkadotNetwork,
  ss58PrefixOf,
  ss58PrefixOfNetwork,
  type ChainName,
} from './chains.js';
import { identifier } from './primitives.js';

export interface ReferenceProblem {
  path: (string | number)[];
  message: string;
}

type Entry = Record<string, unknown>;
type Listed = { index: number; entry: Entry };

type ListName = 'hosts' | 'nodes' | 'validators' | 'signers';

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entriesOf(root: Entry, list: ListName): Listed[] {
  const value = root[list];
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown, index) => (isEntry(entry) ? [{ index, entry }] : []));
}

function idAt(entry: unknown, key: string): string | undefined {
  if (!isEntry(entry)) return undefined;
  const value = entry[key];
  return identifier.safeParse(value).success ? (value as string) : undefined;
}

function stringAt(entry: unknown, key: string): string | undefined {
  if (!isEntry(entry)) return undefined;
  const value = entry[key];
  return typeof value === 'string' ? value : undefined;
}

function chainOf(entry: Entry): ChainName | undefined {
  const parsed = chainName.safeParse(entry.chain);
  return parsed.success ? parsed.data : undefined;
}

/** Indexes a list by id, reporting every repeated id at the entry that repeats it. */
function indexById(root: Entry, list: ListName, problems: ReferenceProblem[]): Map<string, Listed> {
  const byId = new Map<string, Listed>();
  for (const listed of entriesOf(root, list)) {
    const id = idAt(listed.entry, 'id');
    if (id === undefined) continue;
    const first = byId.get(id);
    if (first === undefined) byId.set(id, listed);
    else {
      const message = `duplicate id "${id}" (also ${list}[${first.index}])`;
      problems.push({ path: [list, listed.index, 'id'], message });
    }
  }
  return byId;
}

export function checkInventoryReferences(value: unknown): ReferenceProblem[] {
  if (!isEntry(value)) return [];
  const problems: ReferenceProblem[] = [];
  const hosts = indexById(value, 'hosts', problems);
  const nodes = indexById(value, 'nodes', problems);
  indexById(value, 'validators', problems);
  const signers = indexById(value, 'signers', problems);
  checkHostEndpoints(value, problems);
  checkNodes(value, hosts, problems);
  checkRpcEndpoints(value, problems);
  checkValidators(value, nodes, signers, problems);
  return problems;
}

/**
 * The text an address is compared by: lower-case, IPv6 without brackets, and IP literals in the one form the
 * URL standard writes them (`0:0::1` is `::1`). No DNS: two names for one machine (`localhost`, `127.0.0.1`)
 * stay two texts, so this catches the same endpoint written twice, not every alias of it.
 */
export function endpointAddress(address: string): string {
  const bare = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  try {
    return new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return bare;
  }
}

/** Two host entries for one SSH endpoint would let one machine play two roles under two ids. */
function checkHostEndpoints(root: Entry, problems: ReferenceProblem[]): void {
  checkOneEach(root, 'hosts', 'address', problems, (entry) => {
    const address = stringAt(entry, 'address');
    const port = entry.port ?? 22;
    if (address === undefined || typeof port !== 'number' || !Number.isInteger(port)) return undefined;
    return { key: `${endpointAddress(address)}\0${port}`, what: 'address and port' };
  });
}

/**
 * Reports each entry of `list` whose key (an endpoint) an earlier entry already has, at its `field`. The same
 * id twice is not reported here: it is already a duplicate id.
 */
function checkOneEach(
  root: Entry,
  list: ListName,
  field: string,
  problems: ReferenceProblem[],
  keyOf: (entry: Entry) => { key: string; what: string } | undefined,
): void {
  const seen = new Map<string, Listed>();
  for (const listed of entriesOf(root, list)) {
    const endpoint = keyOf(listed.entry);
    if (endpoint === undefined) continue;
    const first = seen.get(endpoint.key);
    if (first === undefined) {
      seen.set(endpoint.key, listed);
      continue;
    }
    const firstId = idAt(first.entry, 'id');
    if (firstId !== undefined && firstId === idAt(listed.entry, 'id')) continue;
    const other = firstId === undefined ? `${list}[${first.index}]` : `${list.slice(0, -1)} "${firstId}"`;
    problems.push({ path: [list, listed.index, field], message: `same ${endpoint.what} as ${other}` });
  }
}

/**
 * The endpoint an RPC URL reaches, for comparison: the URL as the URL standard writes it (lower-case host,
 * default port dropped, IP literals canonical), without fragment, and ws(s) read as http(s), since a node serves
 * both on one port. No DNS, as for host addresses.
 */
export function rpcEndpoint(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  parsed.hash = '';
  return parsed.href;
}

/** Two nodes behind one RPC URL would make one node's answers stand for another's (sync, signer, version). */
function checkRpcEndpoints(root: Entry, problems: ReferenceProblem[]): void {
  checkOneEach(root, 'nodes', 'rpc', problems, (entry) => {
    const rpc = stringAt(entry, 'rpc');
    const endpoint = rpc === undefined ? undefined : rpcEndpoint(rpc);
    return endpoint === undefined ? undefined : { key: endpoint, what: 'RPC' };
  });
}

/** Every node names a known host, and no two nodes on one host share a service or a folder. */
function checkNodes(root: Entry, hosts: Map<string, Listed>, problems: ReferenceProblem[]): void {
  const claimed = new Map<string, string>();
  for (const { index, entry } of entriesOf(root, 'nodes')) {
    const host = idAt(entry, 'host');
    if (host === undefined) continue;
    if (!hosts.has(host)) {
      problems.push({ path: ['nodes', index, 'host'], message: `unknown host "${host}"` });
      continue;
    }
    const nodeId = idAt(entry, 'id') ?? `nodes[${index}]`;
    for (const field of ['service', 'home', 'basePath', 'keystorePath']) {
      const resource = stringAt(entry, field);
      if (resource === undefined) continue;
      const key = `${host}\0${field === 'service' ? 'service' : 'folder'}\0${resource}`;
      const owner = claimed.get(key);
      if (owner === undefined) claimed.set(key, nodeId);
      else if (owner !== nodeId) {
        const what = field === 'service' ? 'service' : 'folder';
        problems.push({
          path: ['nodes', index, field],
          message: `node "${owner}" on host "${host}" already uses this ${what}`,
        });
      }
    }
  }
}

function checkValidators(
  root: Entry,
  nodes: Map<string, Listed>,
  signers: Map<string, Listed>,
  problems: ReferenceProblem[],
): void {
  const nodeRunsValidator = new Map<string, string>();
  const identities = new Map<string, number>();
  for (const { index, entry } of entriesOf(root, 'validators')) {
    const chain = chainOf(entry);
    const validatorId = idAt(entry, 'id') ?? `validators[${index}]`;
    const at = (...path: (string | number)[]) => ['validators', index, ...path];

    const roles = isEntry(entry.nodes) ? entry.nodes : {};
    const primary = idAt(roles, 'primary');
    for (const role of ['primary', 'standby', 'sync'] as const) {
      const nodeId = idAt(roles, role);
      if (nodeId === undefined) continue;
      const node = nodes.get(nodeId);
      if (!node) {
        problems.push({ path: at('nodes', role), message: `unknown node "${nodeId}"` });
        continue;
      }
      const nodeChain = chainOf(node.entry);
      if (chain && nodeChain && chain !== nodeChain) {
        problems.push({ path: at('nodes', role), message: `node "${nodeId}" is a ${nodeChain} node, not ${chain}` });
      }
      if (role !== 'primary' && nodeId === primary) {
        problems.push({ path: at('nodes', role), message: 'must be a different node than the primary' });
        continue;
      }
      const runs = nodeRunsValidator.get(nodeId);
      if (runs === undefined) nodeRunsValidator.set(nodeId, validatorId);
      else if (runs !== validatorId) {
        problems.push({ path: at('nodes', role), message: `node "${nodeId}" already runs validator "${runs}"` });
      }
    }

    const signerRefs: [(string | number)[], unknown][] =
      chain === 'near'
        ? [[at('staking', 'signer'), entry.staking]]
        : chain === 'polkadot' && isEntry(entry.setKeys)
          ? [[at('setKeys', 'signedBy', 'signer'), entry.setKeys.signedBy]]
          : [];
    for (const [path, holder] of signerRefs) {
      const signerId = idAt(holder, 'signer');
      if (signerId === undefined) continue;
      const signer = signers.get(signerId);
      if (!signer) problems.push({ path, message: `unknown signer "${signerId}"` });
      else if (chain === 'polkadot' && signer.entry.type === 'keystore-dir') {
        problems.push({
          path,
          message: `signer "${signerId}" is a near-cli credentials folder, which holds NEAR keys only`,
        });
      }
    }

    const identity = identityOf(entry, chain);
    if (identity) {
      const first = identities.get(identity.key);
      if (first === undefined) identities.set(identity.key, index);
      else {
        problems.push({
          path: at(identity.field),
          message: `same ${identity.field} as validators[${first}] on ${identity.network}: each on-chain identity gets one entry`,
        });
      }
    }

    if (chain === 'polkadot') {
      checkSs58Prefixes(entry, at, problems);
      checkGenesisHash(entry, at, problems);
    }
  }
}

/** A public network's genesis hash is known: another one in its entry names another chain. */
function checkGenesisHash(
  entry: Entry,
  at: (...path: (string | number)[]) => (string | number)[],
  problems: ReferenceProblem[],
): void {
  const network = polkadotNetwork.safeParse(entry.network);
  const given = genesisHash.safeParse(entry.genesisHash);
  const known = network.success ? KNOWN_GENESIS_HASHES[network.data] : undefined;
  // A malformed hash is its own schema's to report.
  if (known === undefined || !given.success || given.data === known) return;
  problems.push({ path: at('genesisHash'), message: `is not ${network.data}'s genesis hash (${known})` });
}

/** The on-chain identity a validator entry stands for, when its fields are valid enough to tell. */
function identityOf(entry: Entry, chain: ChainName | undefined) {
  if (chain === 'near') {
    const network = nearNetwork.safeParse(entry.network);
    const account = stringAt(entry, 'accountId');
    if (!network.success || account === undefined || !isNearAccountId(account)) return undefined;
    return { key: `near\0${network.data}\0${account}`, field: 'accountId', network: network.data };
  }
  if (chain === 'polkadot') {
    const network = polkadotNetwork.safeParse(entry.network);
    const stash = stringAt(entry, 'stash');
    if (!network.success || stash === undefined || ss58PrefixOf(stash) === undefined) return undefined;
    // One account has an address under every prefix: compare the account, not the text.
    const account = u8aToHex(decodeAddress(stash));
    return { key: `polkadot\0${network.data}\0${account}`, field: 'stash', network: network.data };
  }
  return undefined;
}

/** Addresses printed for another network are a likely mix-up (a Kusama stash in a Polkadot entry). */
function checkSs58Prefixes(
  entry: Entry,
  at: (...path: (string | number)[]) => (string | number)[],
  problems: ReferenceProblem[],
): void {
  const network = polkadotNetwork.safeParse(entry.network);
  if (!network.success) return;
  const expected = ss58PrefixOfNetwork[network.data];
  const signedBy = isEntry(entry.setKeys) ? entry.setKeys.signedBy : undefined;
  const addresses: [(string | number)[], string | undefined][] = [
    [at('stash'), stringAt(entry, 'stash')],
    [at('setKeys', 'signedBy', 'account'), stringAt(signedBy, 'account')],
  ];
  for (const [path, address] of addresses) {
    const prefix = address === undefined ? undefined : ss58PrefixOf(address);
    if (prefix === undefined || prefix === expected || prefix === GENERIC_SS58_PREFIX) continue;
    problems.push({
      path,
      message: `is an address with SS58 prefix ${prefix}, but ${network.data} addresses use prefix ${expected}`,
    });
  }
}
