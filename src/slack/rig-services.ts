import { budgetText, parseBudget, spentText } from '../town/costs.js';
import type Anthropic from '@anthropic-ai/sdk';
import { GastownError, isGastownError } from '../errors.js';
import { goalPlanner } from '../mayor/goal-planner.js';
import type { RigProvider } from '../rig/rig-provider.js';
import type { Rig } from '../rig/rig.js';
import type { TownDocKind } from '../rig/town-kinds.js';
import { townService, type SlingResult, type TownService } from '../rig/town-service.js';
import type { Convoy, MailMessage } from '../town/types.js';
import type { RepoTarget, SlackServices, SlingView, StatusView, TrailEntry } from './services.js';
import { workLimiter } from './work-limiter.js';

export interface RigSlackServicesOptions {
  /** Called after every successful write (nudges the feed and DM pumps). */
  onWrite?: () => void;
  /** The local Mayor's model; the checklist planner plans when absent. */
  model?: { client: Anthropic; model: string } | null;
  /** How long slingGoal waits for the GitHub flow to record the convoy of the issue it opened. */
  goalWaitMs?: number;
  /** Between two looks for that convoy. */
  goalPollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Ledger visits running at once (default 4); the rest wait, so acknowledgements are never starved. */
  maxConcurrent?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function subjectOf(text: string): string {
  const first = text.split('\n')[0]!.trim();
  return first.length > 120 ? `${first.slice(0, 117)}...` : first || '(no subject)';
}

/**
 * The Slack services over the rig functions. Reads and writes go through the provider, so
 * the same code serves a local rig and the GitHub ledger mirrors. A thing named by id (bead,
 * convoy, agent) is looked up in each repository the provider serves; the first holding it
 * wins.
 */
export function createRigSlackServices(provider: RigProvider, opts: RigSlackServicesOptions = {}): SlackServices {
  const limit = workLimiter(opts.maxConcurrent ?? 4);
  // Every ledger visit goes through the limiter; waiting (slingGoal's poll) holds no slot.
  const limited: RigProvider = Object.assign(Object.create(provider) as RigProvider, {
    withRig: <T>(repo: string | null, fn: (rig: Rig) => Promise<T>) => limit(() => provider.withRig(repo, fn)),
  });
  const shared = singleFlight();
  const services = rigServices(limited, {
    ...opts,
    onWrite: () => {
      shared.forget();
      opts.onWrite?.();
    },
  });
  // Identical reads asked while one is on its way share its answer (a burst of `/gt status`
  // reads the ledger once); a write from here starts the next reads afresh.
  const reads = ['status', 'convoy', 'ready', 'feed', 'trail', 'inbox'] as const;
  for (const name of reads) {
    const read = services[name] as (...args: unknown[]) => Promise<unknown>;
    (services as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
      shared.run(`${name}:${JSON.stringify(args)}`, () => read(...args));
  }
  return services;
}

function singleFlight(): { run<T>(key: string, fn: () => Promise<T>): Promise<T>; forget(): void } {
  let pending = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const hit = pending.get(key);
      if (hit) return hit as Promise<T>;
      const table = pending;
      const p = fn().finally(() => {
        if (table.get(key) === p) table.delete(key);
      });
      table.set(key, p);
      return p;
    },
    forget() {
      pending = new Map();
    },
  };
}

function rigServices(provider: RigProvider, opts: RigSlackServicesOptions): SlackServices {
  const sleep = opts.sleep ?? defaultSleep;
  /** The town service over the repository's rig: the same operations the CLI and GitHub call. */
  const withTown = <T>(repo: string | null, fn: (town: TownService) => Promise<T>): Promise<T> =>
    provider.withRig(repo, (rig) => fn(townService(rig)));
  const wrote = <T>(value: T): T => {
    opts.onWrite?.();
    return value;
  };

  /** The repository whose ledger holds `kind/id`, or undefined when none does. */
  async function locate(kind: TownDocKind, id: string): Promise<string | null | undefined> {
    for (const repo of await provider.repos()) {
      if (await provider.withRig(repo, async (rig) => (await rig.ledger.get(kind, id)) !== null)) return repo;
    }
    return undefined;
  }

  async function locateOrThrow(kind: 'beads' | 'convoys', id: string): Promise<string | null> {
    const repo = await locate(kind, id);
    if (repo === undefined) throw new GastownError('gastown_not_found', `No ${kind === 'beads' ? 'bead' : 'convoy'} ${id}.`, { id });
    return repo;
  }

  /** An agent's rig: where it exists as an agent or has an inbox; else the default repository. */
  async function agentRepo(name: string): Promise<string | null> {
    const found = await locate('agents', name);
    if (found !== undefined) return found;
    for (const repo of await provider.repos()) {
      if (await provider.withRig(repo, async (rig) => (await rig.ledger.chains('mail')).includes(name))) return repo;
    }
    return provider.defaultRepo;
  }

  function slingView(r: SlingResult): SlingView {
    return { bead: r.bead.id, polecat: r.polecat, url: r.bead.issue?.url ?? null };
  }

  async function waitForForgeConvoy(repo: string, issue: { number: number; url: string; sourceKey: string }): Promise<Convoy> {
    const until = Date.now() + (opts.goalWaitMs ?? 90_000);
    for (;;) {
      const found = await withTown(repo, (town) => town.convoyFor(issue.sourceKey));
      if (found) return found.convoy;
      if (Date.now() >= until) {
        throw new GastownError(
          'gastown_not_ready',
          `Opened ${issue.url} for the Mayor; the plan is not recorded yet. It will show up in the feed, or try \`/gt status ${repo}\` later.`,
          { repo, issue: issue.number },
        );
      }
      await sleep(opts.goalPollMs ?? 2_000);
    }
  }

  return {
    async status(repo) {
      return withTown(repo ?? null, async (town): Promise<StatusView> => {
        const s = await town.status();
        const { total: _total, ready: _ready, ...beads } = s.beads;
        return {
          repo: repo ?? provider.defaultRepo,
          beads,
          convoys: s.convoys.map(({ convoy, progress }) => ({
            id: convoy.id,
            title: convoy.title,
            status: convoy.status,
            closed: progress.closed,
            total: progress.total,
            url: convoy.source?.issue?.url ?? null,
          })),
          polecats: s.polecats.map((p) => ({
            name: p.name,
            bead: p.bead,
            state: p.stale ? 'stalled' : p.bead ? 'working' : 'idle',
            lastSeenAt: p.bead ? p.lastBeat : null,
          })),
        };
      });
    },

    async convoy(id) {
      const repo = await locateOrThrow('convoys', id);
      return withTown(repo, async (town) => {
        const view = await town.convoy(id);
        if (!view) throw new GastownError('gastown_not_found', `No convoy ${id}.`, { id });
        return { convoy: view.convoy, beads: view.beads, url: view.convoy.source?.issue?.url ?? null };
      });
    },

    ready: () => withTown(null, (town) => town.ready()),

    feed: (limit) => withTown(null, (town) => town.feed(limit)),

    trail: (limit) =>
      withTown(null, async (town) =>
        (await town.trail(limit))
          .map(
            (t): TrailEntry => ({
              at: t.at,
              actor: t.actor,
              summary: `${t.summary}${t.status ? ` → ${t.status}` : ''}`,
              bead: t.kind === 'beads' ? t.id || null : null,
              convoy: t.kind === 'convoys' ? t.id || null : null,
              url: null,
            }),
          )
          .reverse(),
      ),

    async sling(beadId, polecat, actor) {
      const repo = await locateOrThrow('beads', beadId);
      return wrote(slingView(await withTown(repo, (town) => town.sling(beadId, polecat, actor))));
    },

    async slingGoal(goal, repo, actor) {
      if (provider.issueFlow) {
        const issue = await provider.issueFlow.openGoalIssue(repo, goal, actor);
        opts.onWrite?.();
        return waitForForgeConvoy(repo, issue);
      }
      const recorded = await withTown(repo, (town) => town.planGoal({ goal, plan: goalPlanner({ model: opts.model ?? null }) }, actor));
      if (recorded.convoy.status === 'active') await withTown(repo, (town) => town.dispatchReady('mayor'));
      return wrote(recorded.convoy);
    },

    async approve(convoyId, actor) {
      const repo = await locateOrThrow('convoys', convoyId);
      if (provider.issueFlow && repo) {
        // With a forge flow the plan's child issues are made by that flow: ask it, as this
        // person, with a `/gt approve` on the parent issue (also the audit trail there).
        const current = await withTown(repo, (town) => town.convoy(convoyId));
        if (!current) throw new GastownError('gastown_not_found', `No convoy ${convoyId}.`, { id: convoyId });
        const parent = current.convoy.source?.kind === 'github' ? current.convoy.source.issue?.number : undefined;
        if (!current.convoy.approved && parent !== undefined) {
          await provider.issueFlow.requestOnIssue(repo, parent, '/gt approve', actor);
          return current.convoy;
        }
      }
      const approved = await withTown(repo, async (town) => {
        const recorded = await town.approve(convoyId, actor);
        // Without a forge flow this process dispatches; with one, dispatch waits for the child
        // issues the flow makes.
        if (!provider.issueFlow) await town.dispatchReady('mayor');
        return recorded.convoy;
      });
      return wrote(approved);
    },

    async budget(convoyId, amount, actor) {
      parseBudget(amount);
      const repo = await locateOrThrow('convoys', convoyId);
      if (provider.issueFlow && repo) {
        // On a forge the budget is the issue flow's to change (it dispatches the resumed beads): ask it, as this person.
        const current = await withTown(repo, (town) => town.convoy(convoyId));
        const parent = current?.convoy.source?.kind === 'github' ? current.convoy.source.issue?.number : undefined;
        if (parent !== undefined) {
          const { url } = await provider.issueFlow.requestOnIssue(repo, parent, `/gt budget ${amount}`, actor);
          opts.onWrite?.();
          return { text: `change to ${amount} asked on ${url}` };
        }
      }
      const r = await withTown(repo, async (town) => {
        const changed = await town.budget(convoyId, amount, actor);
        if (changed.resumed.length && !provider.issueFlow) await town.dispatchReady('mayor');
        return changed;
      });
      return wrote({
        text: `${budgetText(r.convoy.budget)}; spent ${spentText(r.spent, r.convoy.budget)}${r.resumed.length ? `; resumed ${r.resumed.join(', ')}` : ''}`,
      });
    },

    async estop(engaged, repo, actor) {
      // On a forge the stop also cancels the polecats' in-flight runs: the flow's own operation does both.
      if (provider.issueFlow?.emergencyStop) return wrote(await provider.issueFlow.emergencyStop(repo, engaged, actor));
      if (provider.issueFlow)
        throw new GastownError(
          'gastown_bad_input',
          `On GitHub the emergency stop also cancels the polecats' workflow runs: comment \`/gt estop\` on any issue of ${repo}.`,
        );
      const r = await withTown(repo, (town) => town.estop(engaged, actor));
      return wrote({ changed: r.changed });
    },

    async stop(convoyId, actor) {
      const repo = await locateOrThrow('convoys', convoyId);
      const { convoy } = await withTown(repo, (town) => town.stop(convoyId, actor));
      return wrote(convoy);
    },

    async inbox(agent) {
      const all: MailMessage[] = [];
      for (const repo of await provider.repos()) {
        const items = await withTown(repo, (town) => town.inbox(agent));
        all.push(...items.map(({ read: _read, ...m }) => m));
      }
      return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    async sendMail(from, to, text) {
      const repo = await agentRepo(to);
      return wrote(await withTown(repo, (town) => town.sendMail(from, to, subjectOf(text), text)));
    },

    async nudge(from, polecat, text) {
      const repo = await agentRepo(polecat);
      return wrote(await withTown(repo, (town) => town.nudge(from, polecat, text)));
    },

    async resling(beadId, actor) {
      const repo = await locateOrThrow('beads', beadId);
      return wrote(slingView(await withTown(repo, (town) => town.resling(beadId, actor, `re-slung from Slack by ${actor}`))));
    },

    async repoOf(target: RepoTarget) {
      try {
        const found =
          'bead' in target
            ? await locate('beads', target.bead)
            : 'convoy' in target
              ? await locate('convoys', target.convoy)
              : await agentRepo(target.agent);
        return found ?? null;
      } catch (err) {
        if (isGastownError(err, 'gastown_bad_input')) return null;
        throw err;
      }
    },
  };
}
