import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from '../town/zod.js';
import { GastownError } from '../errors.js';
import { refPrefixProblem } from '../ledger/ref-prefix.js';
import { parseBudget } from '../town/costs.js';

/**
 * Settings of one rig on one machine, kept in `.git/gastown/rig.json`: where the ledger
 * lives (ref prefix), which remote it syncs with, and how local work runs. Machine-local on
 * purpose: a laptop and a CI runner of the same rig may use different agents or gates.
 */
const nonEmpty = () => z.string().check(z.minLength(1));
const budgetText = () =>
  z.string().check(
    z.superRefine((text, ctx) => {
      try {
        if (parseBudget(text).relative)
          ctx.addIssue({ code: 'custom', message: 'must be an amount such as $5, not an increase', input: text });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message, input: text });
      }
    }),
  );
const int = (min: number, max?: number) => z.int().check(...(max === undefined ? [z.gte(min)] : [z.gte(min), z.lte(max)]));

export const RigSettingsSchema = z.object({
  version: z._default(z.literal(1), 1),
  prefix: z._default(
    z.string().check(
      z.superRefine((p, ctx) => {
        const problem = refPrefixProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: `the ledger prefix ${problem}`, input: p });
      }),
    ),
    'refs/gastown/',
  ),
  /**
   * Where the prefix came from. `option` (`gt init --prefix`) is kept as given; otherwise
   * every open takes `ledgerPrefix` from `.github/gastown.yml`, as the app does, so the CLI
   * and the app share one ledger (see Rig.open).
   */
  prefixFrom: z._default(z.enum(['default', 'repo-config', 'option']), 'default'),
  remote: z._default(z.nullable(nonEmpty()), null),
  /** The branch polecats start from and the Refinery merges into. */
  defaultBranch: z._default(nonEmpty(), 'main'),
  concurrency: z._default(int(1, 32), 4),
  /** Command the Refinery runs before merging (e.g. `npm test`); null: no gate. */
  gate: z._default(z.nullable(nonEmpty()), null),
  agent: z._default(
    z.object({
      kind: z._default(z.enum(['script', 'command', 'builtin']), 'script'),
      command: z.optional(nonEmpty()),
      /** How a command agent's output reports its usage (`claude-json`: `claude -p --output-format json`); else unknown. */
      usageParser: z.optional(z.enum(['claude-json'])),
      /**
       * A command that continues the agent's last session with a new prompt (e.g. `claude -p --continue`):
       * messages that arrived while the command worked are then given to it as a new turn.
       */
      resumeCommand: z.optional(nonEmpty()),
      model: z.optional(nonEmpty()),
      maxTurns: z._default(int(1, 500), 40),
      tokenBudget: z._default(int(1000), 400_000),
      timeoutMs: z._default(int(1000), 30 * 60_000),
    }),
    { kind: 'script', maxTurns: 40, tokenBudget: 400_000, timeoutMs: 30 * 60_000 },
  ),
  /**
   * The polecat sandbox (src/polecat/sandbox/): `env` names the variables an agent's
   * processes get from the runner besides PATH and the locale (e.g. the API key of a command
   * agent), `network` lets them reach the network, `readOnly` shows more host paths read-only
   * (a toolchain outside /usr and /opt). Everything else stays out of the sandbox.
   */
  sandbox: z._default(
    z.object({
      env: z._default(z.array(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'sandbox.env holds variable names'))), []),
      network: z._default(z.boolean(), false),
      readOnly: z._default(z.array(z.string().check(z.regex(/^\//, 'sandbox.readOnly holds absolute paths'))), []),
    }),
    { env: [], network: false, readOnly: [] },
  ),
  /** How often the Refinery may send a bead back before it fails. */
  retryCap: z._default(int(0, 20), 3),
  /**
   * `required`: a finished bead waits in review until `gt review <bead> --approve` before the
   * Refinery merges it; `off`: the Refinery merges what polecats finish.
   */
  review: z._default(z.enum(['required', 'off']), 'off'),
  /** Revision rounds per bead (reviews, CI and gate failures together) before a person must look. */
  maxRevisions: z._default(int(0, 20), 3),
  /** A runner silent for this long loses its bead to another runner. */
  leaseMs: z._default(int(500), 120_000),
  heartbeatMs: z._default(int(100), 15_000),
  /**
   * How often a working runner syncs the ledger with `remote` (its heartbeat out; nudges,
   * mail and a convoy's stop in), and whether it publishes its claims there before working.
   * null: every 30 s inside GitHub Actions (GITHUB_ACTIONS=true), never elsewhere (a runner on
   * the rig's own clone already sees every write); 0: never.
   */
  syncMs: z._default(z.nullable(int(0)), null),
  polecatEmailDomain: z._default(nonEmpty(), 'polecats.gastown.local'),
  maxBeads: z._default(int(1, 50), 12),
  /** A planned convoy's budget when its plan names none (`$5`, `200k`); null: none. See town/costs.ts plannedBudget. */
  budget: z._default(z.nullable(budgetText()), null),
  /** The most a Mayor's plan may give a convoy; also the budget of a plan that names none when `budget` is null. */
  maxConvoyBudget: z._default(z.nullable(budgetText()), null),
  requireApproval: z._default(z.boolean(), false),
  createdAt: z.optional(z.string()),
});
export type RigSettings = z.infer<typeof RigSettingsSchema>;
type RigSettingsInput = z.input<typeof RigSettingsSchema>;

export function settingsPath(gitDir: string): string {
  return join(gitDir, 'gastown', 'rig.json');
}

/** The rig's settings, or null when `gt init` has not been run here. */
export function readRigSettings(gitDir: string): RigSettings | null {
  let text: string;
  try {
    text = readFileSync(settingsPath(gitDir), 'utf8');
  } catch {
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new GastownError('gastown_config', `${settingsPath(gitDir)} is not valid JSON`);
  }
  // Written before prefixFrom existed: a prefix other than the default was given by a person.
  if (raw && typeof raw === 'object' && !('prefixFrom' in raw) && 'prefix' in raw && raw.prefix !== 'refs/gastown/')
    (raw as Record<string, unknown>).prefixFrom = 'option';
  const parsed = z.safeParse(RigSettingsSchema, raw);
  if (!parsed.success)
    throw new GastownError(
      'gastown_config',
      `${settingsPath(gitDir)}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

export function writeRigSettings(gitDir: string, settings: RigSettings): void {
  const file = settingsPath(gitDir);
  mkdirSync(join(gitDir, 'gastown'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`);
  renameSync(tmp, file);
}

export function defaultRigSettings(overrides: Partial<RigSettingsInput> = {}): RigSettings {
  const parsed = z.safeParse(RigSettingsSchema, overrides);
  if (!parsed.success)
    throw new GastownError(
      'gastown_config',
      `bad rig settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
