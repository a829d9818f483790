/**
 * An activity's contract: the zod schema its input is checked against at the worker (the caller's form of
 * the input, defaults optional, is `z.input`; what the activity works with is `z.output`), and the type it
 * answers. Zod and types only: the workflows import the contracts into their sandbox.
 */
import type { z } from 'zod';

declare const answers: unique symbol;

export interface ActivityContract<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly input: I;
  /** Type only: what the activity answers (never set at run time). */
  readonly [answers]?: () => O;
}

/** `activity(schema).returns<Answer>()`: one activity's contract, the input checked by `schema`. */
export function activity<I extends z.ZodType>(input: I) {
  return { returns: <O>(): ActivityContract<I, O> => ({ input }) };
}

export type ActivityContracts = Record<string, ActivityContract>;

export type AnswerOf<C> = C extends ActivityContract<z.ZodType, infer O> ? O : never;

/** The activities as a workflow calls them: the input in the caller's form, the answer. */
export type ActivityFunctions<C extends ActivityContracts> = {
  [K in keyof C]: (input: z.input<C[K]['input']>) => Promise<AnswerOf<C[K]>>;
};

/** The activities as the worker implements them: the input already checked and its defaults filled in. */
export type ActivityImplementations<C extends ActivityContracts> = {
  [K in keyof C]: (input: z.output<C[K]['input']>) => Promise<AnswerOf<C[K]>>;
};
