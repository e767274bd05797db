import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GastownError } from '../errors.js';

/**
 * Settings of one rig on one machine, kept in `.git/gastown/rig.json`: where the ledger
 * lives (ref prefix), which remote it syncs with, and how local work runs. Machine-local on
 * purpose: a laptop and a CI runner of the same rig may use different agents or gates.
 */
export const RigSettingsSchema = z.object({
  version: z.literal(1).default(1),
  prefix: z
    .string()
    .regex(/^refs\/([A-Za-z0-9._-]+\/)+$/, 'the ledger prefix must look like refs/<name>/')
    .default('refs/gastown/'),
  remote: z.string().min(1).nullable().default(null),
  /** The branch polecats start from and the Refinery merges into. */
  defaultBranch: z.string().min(1).default('main'),
  concurrency: z.number().int().min(1).max(32).default(4),
  /** Command the Refinery runs before merging (e.g. `npm test`); null: no gate. */
  gate: z.string().min(1).nullable().default(null),
  agent: z
    .object({
      kind: z.enum(['script', 'command', 'builtin']).default('script'),
      command: z.string().min(1).optional(),
      model: z.string().min(1).optional(),
      maxTurns: z.number().int().min(1).max(500).default(40),
      tokenBudget: z.number().int().min(1000).default(400_000),
      timeoutMs: z.number().int().min(1000).default(30 * 60_000),
    })
    .default({ kind: 'script', maxTurns: 40, tokenBudget: 400_000, timeoutMs: 30 * 60_000 }),
  /** How often the Refinery may send a bead back before it fails. */
  retryCap: z.number().int().min(0).max(20).default(3),
  /** A runner silent for this long loses its bead to another runner. */
  leaseMs: z.number().int().min(500).default(120_000),
  heartbeatMs: z.number().int().min(100).default(15_000),
  polecatEmailDomain: z.string().min(1).default('polecats.gastown.local'),
  maxBeads: z.number().int().min(1).max(50).default(12),
  requireApproval: z.boolean().default(false),
  createdAt: z.string().optional(),
});
export type RigSettings = z.infer<typeof RigSettingsSchema>;

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
  const parsed = RigSettingsSchema.safeParse(raw);
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

export function defaultRigSettings(overrides: Partial<z.input<typeof RigSettingsSchema>> = {}): RigSettings {
  return RigSettingsSchema.parse(overrides);
}
