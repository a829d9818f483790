/**
 * Failures of NEAR chain operations, each with a type the activities turn into an ApplicationFailure type and
 * a flag saying whether a retry could help. Transient RPC trouble is retryable; a wrong owner, a signer that
 * cannot sign for the account or a bad key is not.
 */
import { failureClass, nearFailures } from '../api/contracts/failures.js';

export const NearError = failureClass('NearError', nearFailures);
export type NearError = InstanceType<typeof NearError>;
