/** The client SDK: typed helpers for services that start and steer validator upgrades. */
export {
  InvalidUpgradeInput,
  UpgradeAlreadyRunning,
  abort,
  approve,
  checkUpgradeInput,
  getStatus,
  listUpgrades,
  pause,
  resume,
  startUpgrade,
  upgradeListQuery,
  type StartedUpgrade,
  type UpgradeFilter,
  type UpgradeSummary,
} from './upgrades.js';
export {
  describeUpgrade,
  failureLine,
  fetchUpgradeHistory,
  retryingActivities,
  runningUpgrade,
  type RetryingActivity,
  type UpgradeHistory,
  type UpgradeRun,
} from './inspect.js';
export { hasWorkflowPollers, runPreflight } from './preflight.js';
export {
  approveFleet,
  checkFleetInput,
  deadlineProblem,
  fleetIdOf,
  fleetStatus,
  planFleet,
  skipFleetMember,
  startFleet,
} from './fleet.js';
export {
  fleetInputSchema,
  fleetWorkflowId,
  type FleetInput,
  type FleetMemberRow,
  type FleetStatus,
  type FleetApproveResult,
} from '../api/fleet.js';
export { createSearchAttributesCommand } from './cluster.js';
export {
  DEFAULT_MIN_FREE_DISK_BYTES,
  preflightWorkflowId,
  type CheckOutcome,
  type PreflightCheck,
  type PreflightReport,
  type PreflightRequest,
} from '../api/preflight.js';
export { plannedSteps, type PlannedStep } from '../api/plans.js';
export { strategies, type StrategyInput, type StrategyName } from '../api/strategies.js';
export { DEFAULT_TASK_QUEUE, upgradeWorkflowId, type ValidatorIdentity } from '../api/identity.js';
export type { UpgradeStatus, StepStatus, RunState } from '../api/status.js';
export { upgradeSearchAttributes, searchAttributeFlags } from '../api/search-attributes.js';
export {
  AesGcmPayloadCodec,
  CODEC_KEYS_ENV,
  CodecKeysError,
  PayloadDecryptionError,
  codecDataConverter,
  dataConverterFromEnv,
  loadCodecKeys,
  payloadCodecFromEnv,
  type CodecKeys,
} from '../codec/index.js';
