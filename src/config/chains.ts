/** What an on-chain identity looks like on each chain: SS58 addresses here, the rest in identities.ts. */

export * from './identities.js';

export { GENERIC_SS58_PREFIX, decodeSs58, ss58Address, ss58PrefixOf, ss58PrefixOfNetwork } from './ss58.js';
