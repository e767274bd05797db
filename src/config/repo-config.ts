/**
 * `.github/gastown.yml`: per-repository settings. Every field has a default, so a repository
 * without the file behaves exactly like one with an empty file.
 */
import { z } from 'zod';
import { GastownError } from '../errors.js';
import { refPrefixProblem } from '../ledger/ref-prefix.js';
import { parseBudget } from '../town/costs.js';

import { DEFAULT_MODEL } from '../model/default-model.js';

export { DEFAULT_MODEL };

/**
 * One schema per default model, built once: zod compiles a schema on its first parse, and
 * config is read on most deliveries (building it anew each time was a tenth of the app's
 * CPU in the GitHub loop bench).
 */
const schemas = new Map<string, ReturnType<typeof buildRepoConfigSchema>>();

export function repoConfigSchema(defaultModel: string = DEFAULT_MODEL): ReturnType<typeof buildRepoConfigSchema> {
  let schema = schemas.get(defaultModel);
  if (!schema) schemas.set(defaultModel, (schema = buildRepoConfigSchema(defaultModel)));
  return schema;
}

function buildRepoConfigSchema(defaultModel: string) {
  return z
    .object({
      labels: z
        .object({
          mayor: z.string().min(1).default('gastown:mayor'),
          bead: z.string().min(1).default('gastown:bead'),
          ready: z.string().min(1).default('gastown:ready'),
          blocked: z.string().min(1).default('gastown:blocked'),
          failed: z.string().min(1).default('gastown:failed'),
        })
        .strict()
        .prefault({}),
      planner: z.enum(['model', 'checklist']).default('model'),
      model: z.string().min(1).default(defaultModel),
      maxBeads: z.number().int().min(1).max(50).default(12),
      requireApproval: z.boolean().default(false),
      concurrency: z.number().int().min(1).max(32).default(4),
      /** Some hosts accept only `refs/heads/*`: `refs/heads/gastown-ledger/` is the fallback. */
      ledgerPrefix: z
        .string()
        .superRefine((prefix, ctx) => {
          const problem = refPrefixProblem(prefix);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .default('refs/gastown/'),
      closeParentOnLand: z.boolean().default(false),
      /**
       * The workflow the app dispatches (`workflow_dispatch`, input `bead`) for each slung bead;
       * null when polecats run elsewhere (`gt runner` processes claim hooked beads themselves).
       */
      polecatWorkflow: z
        .string()
        .regex(/^[A-Za-z0-9._-]+\.ya?ml$/, 'must be a workflow file name such as gastown-polecat.yml')
        .nullable()
        .default('gastown-polecat.yml'),
      draftPullRequests: z.boolean().default(false),
      /**
       * Agents a polecat may use on GitHub. The script agent runs a bead's fenced shell
       * blocks: off unless turned on here, and then it runs only blocks that appear in an
       * issue body last edited by someone with write access (see docs/architecture.md).
       */
      agents: z
        .object({ script: z.boolean().default(false) })
        .strict()
        .prefault({}),
      /**
       * What each convoy's agents may spend, in dollars (`$5`) or tokens (`200k`), or both
       * (`$5, 200k`); the runner stops them past it (town/costs.ts). Absent: no budget.
       */
      budget: budgetAmount().optional(),
      /**
       * The most the Mayor's plan may give a convoy (a plan asking more gets this, and says
       * so); also the budget of a plan that names none when `budget` is absent. Absent: no cap.
       */
      maxConvoyBudget: budgetAmount().optional(),
      /** Revision rounds per bead (reviews, CI failures) before it is labelled gastown:needs-human. */
      maxRevisions: z.number().int().min(0).max(20).default(3),
      /** Polecat commits are authored as `<name>@<domain>`; absent means the rig's default. */
      polecatEmailDomain: z
        .string()
        .regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'must be a domain name such as example.com')
        .optional(),
    })
    .strict();
}

/** A budget amount as people write it (`$5`, `200k`, `$5, 200k`), never an increase. */
function budgetAmount() {
  return z.string().superRefine((text, ctx) => {
    try {
      if (parseBudget(text).relative) ctx.addIssue({ code: 'custom', message: 'must be an amount such as $5, not an increase' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
}

export type RepoConfig = z.infer<ReturnType<typeof repoConfigSchema>>;

/** The settings a repository gets when it has no `.github/gastown.yml`. */
export function defaultRepoConfig(defaultModel: string = DEFAULT_MODEL): RepoConfig {
  return repoConfigSchema(defaultModel).parse({});
}

/** Validates raw config (already parsed from YAML); invalid → GastownError('gastown_config'). */
export function parseRepoConfig(raw: unknown, defaultModel: string = DEFAULT_MODEL): RepoConfig {
  const result = repoConfigSchema(defaultModel).safeParse(raw ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  throw new GastownError('gastown_config', `Invalid .github/gastown.yml:\n${issues.map((i) => `- ${i}`).join('\n')}`, {
    issues,
  });
}

/** The part of Probot's `Context` this module needs (keeps tests free of a full Context). */
export interface ConfigSource {
  config<T>(fileName: string, defaultConfig?: T): Promise<T | null>;
}

/**
 * Loads `.github/gastown.yml` through Probot (which also falls back to the owner's `.github`
 * repository and follows `_extends`), then validates it.
 */
export async function loadRepoConfig(context: ConfigSource, options: { defaultModel?: string } = {}): Promise<RepoConfig> {
  const defaultModel = options.defaultModel ?? DEFAULT_MODEL;
  let raw: unknown;
  try {
    raw = await context.config<Record<string, unknown>>('gastown.yml', defaultRepoConfig(defaultModel));
  } catch (err) {
    // Probot throws plain Errors for unparsable YAML: give them our code so the handler can
    // tell the person what to fix.
    const status = (err as { status?: number }).status;
    if (status !== undefined) throw err;
    throw new GastownError('gastown_config', `Invalid .github/gastown.yml: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  return parseRepoConfig(raw, defaultModel);
}
