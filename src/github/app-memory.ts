/**
 * What the app keeps between deliveries in one process, besides the ledger mirrors, to spare
 * GitHub requests that would tell it nothing new:
 *
 * - its own bot login (`<slug>[bot]`), asked once with the app's JWT (`GET /app`), so the
 *   events its own writes cause (every label it puts on a child issue comes back as an
 *   `issues.labeled`) are dropped before anything is read for them;
 * - the body it last wrote or read of each status comment, so a status that changed is
 *   edited without reading it first (the forge still reads an unchanged one);
 * - each repository's `.github/gastown.yml` for a short while (`CONFIG_TTL_MS`), for the
 *   events automation causes (pull requests, workflow runs) that arrive in bursts. Events a
 *   person causes (a label, a `/gt` command) always read the file afresh and refresh the
 *   copy, so a changed setting applies at once to what people do and within the TTL to the
 *   rest. Keys name the installation and the repository: nothing crosses installations.
 */
import type { RepoConfig } from '../config/repo-config.js';
import type { CommentBodies } from '../forge/github-forge.js';

export const CONFIG_TTL_MS = 30_000;
/** Status comments remembered (the oldest is forgotten first). */
const COMMENT_BODIES = 500;

export interface AppMemoryOptions {
  /** Asks GitHub for the app's slug (`apps.getAuthenticated` with the JWT). */
  appSlug(): Promise<string>;
  now?: () => number;
  configTtlMs?: number;
}

export class AppMemory {
  readonly #options: AppMemoryOptions;
  readonly #configs = new Map<string, { config: RepoConfig; at: number }>();
  readonly #bodies = new Map<string, string>();
  #login: Promise<string | null> | null = null;

  constructor(options: AppMemoryOptions) {
    this.#options = options;
  }

  /** This app's bot login, or null when GitHub could not say (asked again next time). */
  ownLogin(): Promise<string | null> {
    this.#login ??= this.#options.appSlug().then(
      (slug) => `${slug}[bot]`,
      () => {
        this.#login = null;
        return null;
      },
    );
    return this.#login;
  }

  /** Whether the event's sender is this app itself (only bots are checked: no request for people). */
  async isOwnEvent(sender: { login: string; type?: string } | null | undefined): Promise<boolean> {
    if (!sender || sender.type !== 'Bot') return false;
    return sender.login === (await this.ownLogin());
  }

  /** Status comment bodies of one installation, for its deliveries' forges. */
  commentBodies(installation: number | undefined): CommentBodies {
    const key = (id: number) => `${installation ?? 'none'}/${id}`;
    return {
      get: (id) => this.#bodies.get(key(id)),
      set: (id, body) => {
        this.#bodies.delete(key(id));
        this.#bodies.set(key(id), body);
        if (this.#bodies.size > COMMENT_BODIES) this.#bodies.delete(this.#bodies.keys().next().value!);
      },
    };
  }

  /** A repository's config read within the TTL, or undefined. */
  config(installation: number | undefined, owner: string, repo: string): RepoConfig | undefined {
    const key = configKey(installation, owner, repo);
    const entry = this.#configs.get(key);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= (this.#options.configTtlMs ?? CONFIG_TTL_MS)) {
      this.#configs.delete(key);
      return undefined;
    }
    return entry.config;
  }

  rememberConfig(installation: number | undefined, owner: string, repo: string, config: RepoConfig): void {
    this.#configs.set(configKey(installation, owner, repo), { config, at: this.#now() });
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

function configKey(installation: number | undefined, owner: string, repo: string): string {
  return `${installation ?? 'none'}/${owner.toLowerCase()}/${repo.toLowerCase()}`;
}
