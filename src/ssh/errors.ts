/**
 * Failures of host operations, each with a type the activities turn into an ApplicationFailure type and a
 * flag saying whether a retry could help. Messages name the host and the path, never a secret.
 */
import { failureClass, hostFailures } from '../api/contracts/failures.js';

export const HostError = failureClass('HostError', hostFailures);
export type HostError = InstanceType<typeof HostError>;
