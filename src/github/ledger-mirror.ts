/**
 * The app's copy of each repository's ledger: a bare git repository at
 * `<dataDir>/<owner>/<repo>.git` (created on first use), opened as a `Rig`, synced with the
 * repository itself over git with the installation token.
 *
 * `withRepoLedger` runs one unit of work per repository at a time inside this process (a
 * promise chain per repository); the ledger's compare-and-swap writes and the never-forced
 * sync cover other processes. The token is put into the remote URL for each git call only:
 * it is never written to git config, to disk or to a log.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { GastownError } from '../errors.js';
import { redact, runGit } from '../ledger/run-git.js';
import { syncRig } from '../rig/sync-rig.js';
import { Rig } from '../rig/rig.js';

export interface LedgerMirrorsOptions {
  /** Where the bare mirrors live (GASTOWN_DATA_DIR). */
  dataDir: string;
  /** Remote URL with `{token}`, `{owner}`, `{repo}` placeholders (GASTOWN_GIT_URL). */
  gitUrlTemplate: string;
  now?: () => Date;
}

export interface RepoLedgerScope {
  owner: string;
  repo: string;
  /** Ledger ref prefix from the repo config (`ledgerPrefix`). */
  prefix: string;
  /** Who is acting: recorded on every write (the app, or the person who asked). */
  actor: string;
  /** The installation token, asked for before each sync; only called when the URL template needs it. */
  token(): Promise<string>;
  log?: Logger;
}

export interface RepoLedgerSession {
  rig: Rig;
  /** Fetches, merges and pushes now (e.g. right after recording a plan, before any forge write). */
  sync(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export class LedgerMirrors {
  readonly #options: LedgerMirrorsOptions;
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #rigs = new Map<string, { prefix: string; rig: Promise<Rig> }>();
  /**
   * Per mirror, the logger of the work now running on it (work on one repository runs one
   * at a time): where its rig reports ledger entities a read left out.
   */
  readonly #logs = new Map<string, { log?: Logger }>();

  constructor(options: LedgerMirrorsOptions) {
    this.#options = options;
  }

  /** The bare mirror's path for a repository. */
  pathFor(owner: string, repo: string): string {
    if (!NAME.test(owner) || !NAME.test(repo) || owner.startsWith('.') || repo.startsWith('.')) {
      throw new GastownError('gastown_bad_input', `not a repository name: ${JSON.stringify(`${owner}/${repo}`)}`);
    }
    return join(this.#options.dataDir, owner.toLowerCase(), `${repo.toLowerCase()}.git`);
  }

  /** The remote URL for one sync (holds the token: pass it to git, never log it unredacted). */
  async remoteUrl(scope: RepoLedgerScope): Promise<string> {
    const token = this.#options.gitUrlTemplate.includes('{token}') ? await scope.token() : '';
    return this.#fill(scope, encodeURIComponent(token));
  }

  #fill(scope: RepoLedgerScope, token: string): string {
    return this.#options.gitUrlTemplate
      .replace(/\{token\}/g, token)
      .replace(/\{owner\}/g, encodeURIComponent(scope.owner))
      .replace(/\{repo\}/g, encodeURIComponent(scope.repo));
  }

  /**
   * Runs `fn` with the repository's rig: after earlier work on the same repository in this
   * process, with the ledger synced before (fetch, merge) and after (push, also when `fn`
   * throws, so a recorded failure reaches the remote).
   */
  withRepoLedger<T>(scope: RepoLedgerScope, fn: (session: RepoLedgerSession) => Promise<T>): Promise<T> {
    const key = this.pathFor(scope.owner, scope.repo);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.#run(key, scope, fn),
      () => this.#run(key, scope, fn),
    );
    const settled = run.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return run;
  }

  /** Waits for queued work, then stops every rig's long-lived git processes. */
  async close(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    const rigs = [...this.#rigs.values()];
    this.#rigs.clear();
    for (const entry of rigs) {
      try {
        (await entry.rig).close();
      } catch {
        // A rig that never opened has nothing to close.
      }
    }
  }

  async #run<T>(key: string, scope: RepoLedgerScope, fn: (session: RepoLedgerSession) => Promise<T>): Promise<T> {
    this.#logSink(key).log = scope.log;
    const rig = (await this.#rig(key, scope.prefix)).withActor(scope.actor);
    const shown = redact(this.#fill(scope, '***'));
    // Writes the mirror held at the last sync: work that wrote nothing has nothing to push,
    // and what others pushed meanwhile reaches this mirror at the next visit's first sync.
    let synced = -1;
    const sync = async (): Promise<void> => {
      const url = await this.remoteUrl(scope);
      let result;
      try {
        result = await syncRig(rig, url);
      } catch (err) {
        // The URL may hold the token where `redact` does not look (a custom template): scrub
        // it from the message, and leave the cause (with git's own output) behind.
        const token = this.#options.gitUrlTemplate.includes('{token}') ? encodeURIComponent(await scope.token()) : null;
        const scrub = (text: string) => (token ? text.split(token).join('***') : text).split(url).join(shown);
        throw new GastownError('gastown_sync', scrub(`Cannot sync the ledger with ${shown}: ${(err as Error).message}`), { remote: shown });
      }
      synced = rig.ledger.writes;
      scope.log?.debug({ remote: shown, ...result }, 'Synced the ledger');
      if (result.refused.length)
        scope.log?.warn({ remote: shown, refused: result.refused.slice(0, 10) }, 'Sync left out ledger values that do not validate');
    };
    await sync();
    let result: T;
    try {
      result = await fn({ rig, sync });
    } catch (err) {
      if (rig.ledger.writes !== synced)
        await sync().catch((syncErr: unknown) =>
          scope.log?.warn({ code: (syncErr as { code?: string }).code }, 'Could not push the ledger after a failure'),
        );
      throw err;
    }
    if (rig.ledger.writes === synced) return result;
    try {
      await sync();
    } catch (err) {
      // The work is done and recorded in the mirror; the next delivery pushes it.
      scope.log?.warn({ code: (err as { code?: string }).code }, 'Could not push the ledger; the next sync will');
    }
    return result;
  }

  #logSink(key: string): { log?: Logger } {
    let sink = this.#logs.get(key);
    if (!sink) this.#logs.set(key, (sink = {}));
    return sink;
  }

  #rig(key: string, prefix: string): Promise<Rig> {
    const cached = this.#rigs.get(key);
    if (cached && cached.prefix === prefix) return cached.rig;
    if (cached)
      void cached.rig.then(
        (r) => r.close(),
        () => undefined,
      );
    const sink = this.#logSink(key);
    const rig = openMirror(key, prefix, this.#options.now, (ref, problem) =>
      sink.log?.warn({ ref, problem }, 'Skipped a ledger entity that does not validate (see gt doctor)'),
    );
    this.#rigs.set(key, { prefix, rig });
    rig.catch(() => {
      if (this.#rigs.get(key)?.rig === rig) this.#rigs.delete(key);
    });
    return rig;
  }
}

async function openMirror(
  path: string,
  prefix: string,
  now: (() => Date) | undefined,
  onInvalid: (ref: string, problem: string) => void,
): Promise<Rig> {
  mkdirSync(path, { recursive: true });
  await runGit(['init', '--quiet', '--bare', path], { cwd: path });
  return Rig.open({
    repoDir: path,
    actor: 'gastown[bot]',
    allowUninitialised: true,
    settings: { prefix },
    ...(now ? { now } : {}),
    onInvalid,
  });
}
