import { randomHex } from '../random-hex.js';
import { GastownError } from '../errors.js';
import { Ledger, type Transaction } from '../ledger/ledger.js';
import { TOWN_LEDGER, type TownChainKind, type TownDocKind, type TownLedger } from './town-kinds.js';
import type { FeedEvent, FeedEventType } from '../town/types.js';
import { findGitCommonDir } from './find-git-dir.js';
import { DEFAULT_LEDGER_PREFIX, repoLedgerPrefix } from './repo-ledger-prefix.js';
import { defaultRigSettings, readRigSettings, writeRigSettings, type RigSettings } from './rig-settings.js';

export interface RigOpenOptions {
  /** Any directory inside the rig's repository. */
  repoDir: string;
  /** Who is acting: a person's login, a polecat's name, `mayor`... Recorded on every write. */
  actor?: string;
  now?: () => Date;
  /** Open even when `gt init` has not been run (the settings are then the defaults). */
  allowUninitialised?: boolean;
  /** Override settings (the GitHub app's mirrors take the prefix from repo config). */
  settings?: Partial<RigSettings>;
  staleLockMs?: number;
  /**
   * Told once per entity a read leaves out because it does not validate (the CLI prints a
   * warning, the app logs); otherwise they are only kept in `rig.ledger.skipped`.
   */
  onInvalid?: (ref: string, problem: string) => void;
}

/**
 * An open rig: its ledger, its settings, who is acting and what time it is. Every service
 * function takes one; nothing here is global, so one process can serve many rigs.
 */
export class Rig {
  private constructor(
    readonly ledger: TownLedger,
    readonly settings: RigSettings,
    readonly gitDir: string,
    readonly repoDir: string,
    readonly actor: string,
    private readonly clock: () => Date,
    /** Shared by every actor view of one open rig, so feed event ids never repeat. */
    private readonly eventSeq: { n: number } = { n: 0 },
  ) {}

  static async open(opts: RigOpenOptions): Promise<Rig> {
    const gitDir = findGitCommonDir(opts.repoDir);
    if (!gitDir) throw new GastownError('gastown_not_a_rig', `${opts.repoDir} is not inside a git repository`);
    const stored = readRigSettings(gitDir);
    if (!stored && !opts.allowUninitialised)
      throw new GastownError('gastown_not_a_rig', 'this repository is not a rig yet: run `gt init` first');
    const settings = { ...(stored ?? defaultRigSettings()), ...opts.settings };
    if (stored && opts.settings?.prefix === undefined) Object.assign(settings, prefixOf(opts.repoDir, stored));
    const now = opts.now ?? (() => new Date());
    const ledger = await Ledger.open<TownDocKind, TownChainKind>({
      repoDir: opts.repoDir,
      gitDir,
      prefix: settings.prefix,
      now,
      staleLockMs: opts.staleLockMs,
      ...TOWN_LEDGER,
      onInvalid: opts.onInvalid,
    });
    return new Rig(ledger, settings, gitDir, opts.repoDir, opts.actor ?? 'gastown', now);
  }

  /** Makes the repository a rig (idempotent: an existing rig keeps its settings, with the given changes). */
  static init(repoDir: string, changes: Partial<RigSettings> = {}, now = new Date()): RigSettings {
    const gitDir = findGitCommonDir(repoDir);
    if (!gitDir) throw new GastownError('gastown_not_a_rig', `${repoDir} is not inside a git repository (run git init first)`);
    const current = readRigSettings(gitDir) ?? defaultRigSettings({ createdAt: now.toISOString() });
    const prefix = changes.prefix ? { prefix: changes.prefix, prefixFrom: 'option' as const } : prefixOf(repoDir, current);
    const next = defaultRigSettings({ ...current, ...changes, ...prefix });
    writeRigSettings(gitDir, next);
    return next;
  }

  /** Persists changed settings (e.g. a new remote). */
  saveSettings(changes: Partial<RigSettings>): RigSettings {
    const next = defaultRigSettings({ ...this.settings, ...changes });
    writeRigSettings(this.gitDir, next);
    Object.assign(this.settings, next);
    return next;
  }

  withActor(actor: string): Rig {
    return new Rig(this.ledger, this.settings, this.gitDir, this.repoDir, actor, this.clock, this.eventSeq);
  }

  /** The same rig with some settings replaced (the app's repository config over a mirror's defaults). */
  withSettings(patch: Partial<RigSettings>): Rig {
    return new Rig(this.ledger, { ...this.settings, ...patch }, this.gitDir, this.repoDir, this.actor, this.clock, this.eventSeq);
  }

  now(): Date {
    return this.clock();
  }

  at(): string {
    return this.clock().toISOString();
  }

  /** A random seed for ids: ids are decided once, then the same on every machine. */
  seed(text: string): string {
    return `${text}\u0000${this.at()}\u0000${randomHex(8)}`;
  }

  /** Adds a feed event to this writer's chain inside a transaction (so it lands with the change it reports). */
  emit(
    tx: Transaction<TownDocKind, TownChainKind>,
    type: FeedEventType,
    message: string,
    refs: { bead?: string | null; convoy?: string | null; url?: string | null } = {},
  ): FeedEvent {
    const at = this.at();
    const event: FeedEvent = {
      id: `ev-${Date.parse(at).toString(36)}-${this.ledger.writerId}-${process.pid.toString(36)}-${(this.eventSeq.n++).toString(36)}${randomHex(2)}`,
      type,
      at,
      actor: this.actor,
      bead: refs.bead ?? null,
      convoy: refs.convoy ?? null,
      message,
      url: refs.url ?? null,
    };
    tx.append('feed', this.ledger.writerId, event, `feed ${type}`);
    return event;
  }

  close(): void {
    this.ledger.close();
  }
}

/**
 * The ledger prefix a rig uses. A prefix given with `gt init --prefix` wins: a person asked
 * for it on this machine (a scratch ledger, a move between prefixes), and `gt doctor` says
 * when it differs from the repository's. Otherwise `ledgerPrefix` of `.github/gastown.yml`
 * (its default when unset) decides, read at every open as the app reads it, so a repository
 * on the `refs/heads/gastown-ledger/` fallback has its runners and the app on one ledger.
 */
function prefixOf(repoDir: string, settings: RigSettings): Pick<RigSettings, 'prefix' | 'prefixFrom'> {
  if (settings.prefixFrom === 'option') return { prefix: settings.prefix, prefixFrom: 'option' };
  const fromRepo = repoLedgerPrefix(repoDir);
  if (fromRepo === null) return { prefix: settings.prefix, prefixFrom: settings.prefixFrom };
  return { prefix: fromRepo, prefixFrom: fromRepo === DEFAULT_LEDGER_PREFIX ? 'default' : 'repo-config' };
}
