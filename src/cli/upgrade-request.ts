/**
 * What `plan` and `start` upgrade: either a workflow input file (the one `temporal workflow start
 * --input-file` takes) or a validator named by its id in an inventory (src/api/upgrade-request.ts), whose
 * on-chain identity is what the input carries: hosts, RPCs and signers are the worker's to resolve from its
 * own inventory. Both end in the strategy's schema check, before anything is contacted.
 */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { ValidatorIdentity } from '../api/identity.js';
import { strategies, type StrategyName } from '../api/strategies.js';
import { checkUpgradeInput } from '../client/upgrades.js';
import { loadInventory } from '../config/load-inventory.js';
import { upgradeInputFor } from '../api/upgrade-request.js';
import { CliError, EXIT } from './errors.js';

export interface UpgradeRequestOptions {
  strategy: StrategyName;
  inputFile?: string;
  inventory?: string;
  validator?: string;
  releaseStaged?: string;
  releaseSha256?: string;
  releaseVersion?: string;
  manualApproval?: boolean;
  handBack?: boolean;
  deadline?: string;
}

export interface ResolvedUpgrade {
  strategy: StrategyName;
  input: unknown;
  identity: ValidatorIdentity;
  workflowId: string;
  summary: string;
}

/** The options of `plan` and `start`. */
export function upgradeRequestOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-s, --strategy <name>', 'the upgrade strategy (workflow type)')
        .choices(Object.keys(strategies))
        .makeOptionMandatory(),
    )
    .option('-f, --input-file <file>', 'the workflow input as JSON (as `temporal workflow start --input-file`)')
    .option('-i, --inventory <file>', "an inventory (YAML or JSON) to find the validator's identity in")
    .option('-v, --validator <id>', 'the validator, by its id in the inventory')
    .option('--release-staged <path>', 'where the new binary waits on the host that installs it')
    .option('--release-sha256 <hex>', 'its sha256')
    .option('--release-version <version>', 'its version, for the operator')
    .option('--manual-approval', 'hold for `vup approve` before each irreversible step (also over an input file)')
    .option('--no-hand-back', 'Polkadot: end once B validates instead of handing back to A')
    .option(
      '--deadline <time>',
      'ISO time the upgrade must be done by (e.g. the end of NEAR protocol voting; also over an input file)',
    );
}

async function readInputFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.usage);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.usage);
  }
}

export async function resolveUpgradeRequest(options: UpgradeRequestOptions): Promise<ResolvedUpgrade> {
  const { strategy } = options;
  let input: unknown;
  if (options.inputFile !== undefined) {
    if (options.inventory !== undefined) {
      throw new CliError('give either --input-file or --inventory, not both', EXIT.usage);
    }
    input = await readInputFile(options.inputFile);
    if (typeof input === 'object' && input !== null) {
      input = {
        ...input,
        ...(options.manualApproval ? { manualApproval: true } : {}),
        ...(options.deadline ? { deadline: options.deadline } : {}),
      };
    }
  } else if (options.inventory !== undefined) {
    if (options.validator === undefined) throw new CliError('--inventory needs --validator <id>', EXIT.usage);
    const hasRelease = options.releaseStaged !== undefined || options.releaseSha256 !== undefined;
    if (hasRelease && (options.releaseStaged === undefined || options.releaseSha256 === undefined)) {
      throw new CliError('a release needs both --release-staged and --release-sha256', EXIT.usage);
    }
    input = upgradeInputFor(await loadInventory(options.inventory), {
      validator: options.validator,
      strategy,
      ...(hasRelease
        ? {
            release: {
              staged: options.releaseStaged!,
              sha256: options.releaseSha256!,
              ...(options.releaseVersion ? { version: options.releaseVersion } : {}),
            },
          }
        : {}),
      ...(options.manualApproval ? { manualApproval: true } : {}),
      ...(options.handBack === false ? { handBack: false } : {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
    });
  } else {
    throw new CliError('say what to upgrade: --input-file <file>, or --inventory <file> --validator <id>', EXIT.usage);
  }
  return { strategy, input, ...checkUpgradeInput(strategy, input) };
}
