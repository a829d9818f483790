/**
 * Small schemas shared by every input: identifiers, paths, service names, argv templates, URLs, digests,
 * durations. Zod only: workflow inputs are validated inside the workflow sandbox with these same schemas.
 */
import { z } from 'zod';

/** Ids name validators and hosts in workflow ids and search attributes, so keep them plain. */
export const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting alphanumeric');

/** An absolute POSIX path with no ".." or "." segments and no empty segments. */
export const absolutePath = z.string().superRefine((p, ctx) => {
  const problem = absolutePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The first thing wrong with a path, so a path gets one message (not `abort`: that stops all later checks). */
function absolutePathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must be an absolute path (starting with "/")';
  if (p.split('/').some((s) => s === '..' || s === '.')) return 'must not contain "." or ".." segments';
  if (p.includes('//') || (p !== '/' && p.endsWith('/'))) return 'must be a normalized path (no "//")';
  if (/[\0\n]/.test(p)) return 'must not contain NUL or newline characters';
  return undefined;
}

/** A unit or service name: nothing a shell or systemctl could read as syntax or an option. */
export const serviceName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$/,
    'must be a plain service name (letters, digits, "_", ".", "@", ":", "-"; no spaces or shell characters)',
  );

/** A command as an argv array; every element is passed to the remote side as one quoted argument. */
export const commandArgv = z.array(z.string().min(1)).min(1, 'must name a command');

/** A node's RPC endpoint: http(s) for NEAR, ws(s) or http(s) for Substrate. */
export const rpcUrl = z.url({ protocol: /^(https?|wss?)$/, error: 'must be an http(s):// or ws(s):// URL' });

/** A NEAR node's JSON-RPC endpoint: neard serves JSON-RPC over HTTP only. */
export const httpRpcUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http(s):// URL (neard serves JSON-RPC over HTTP)',
});

/** The name of an environment variable of the worker: secrets stay there, inputs carry only the name. */
export const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, "_"), not its value');

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest: 64 lowercase hex characters');

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** A duration as people write it ("90 minutes", "2 days", "30s"), turned into milliseconds. */
export const duration = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/,
    'must be a duration such as "30s", "90 minutes", "6 hours" or "3 days"',
  )
  .transform((text) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(\w+)$/.exec(text)!;
    return Math.round(Number(amount) * durationUnits[unit!]!);
  });

/** One wait's limit in a strategy's input: a duration with its default. */
export const waitLimit = (byDefault: string, description: string) => duration.prefault(byDefault).describe(description);

/** A strategy's wait limits, each with its default, so the whole object may be left out. */
export const waitLimits = <S extends Record<string, ReturnType<typeof waitLimit>>>(limits: S) =>
  z
    .strictObject(limits)
    .prefault({} as z.input<z.ZodObject<S>>)
    .describe('How long each wait may take before the upgrade gives up.');
