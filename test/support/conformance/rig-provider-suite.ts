/**
 * The `RigProvider` contract (src/rig/rig-provider.ts), as one suite every provider runs.
 * What it states, from the port's comments and its callers (src/slack/rig-services.ts):
 *
 * - `withRig(null)` is the default repository's rig: the same rig as `withRig(defaultRepo)`
 *   (a name in another case too); with no default at all, `null` names nothing;
 * - a repository the provider does not serve is a `gastown_not_found` GastownError, and `fn`
 *   never runs;
 * - `repos()` lists the default repository first, each repository once, and every one opens;
 * - `permissions`, when present, answers one of `REPO_PERMISSIONS`: write or above for the
 *   provider's writers, below for everyone else;
 * - `issueFlow` present: goals and approvals are handed to the forge's flow (an issue, a
 *   `/gt` comment on behalf of the person) and this process plans and dispatches nothing;
 *   absent: this process plans, and dispatches ready beads after a plan or an approval;
 * - `close()` is safe twice, and what was written stays for the next provider.
 *
 * The suite never asks which provider it has: it reads `defaultRepo`, `permissions` and
 * `issueFlow`, and a forge view when there is a forge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGastownError } from '../../../src/errors.js';
import { getBead } from '../../../src/rig/beads.js';
import { githubSourceKey } from '../../../src/github/github-keys.js';
import { findConvoyBySource, recordPlan, type RecordedConvoy } from '../../../src/rig/record-plan.js';
import type { Rig } from '../../../src/rig/rig.js';
import type { RigProvider } from '../../../src/rig/rig-provider.js';
import { createRigSlackServices } from '../../../src/slack/rig-services.js';
import { hasWrite, isRepoPermission } from '../../../src/town/permissions.js';
import type { Plan } from '../../../src/town/types.js';

/** The forge behind an issue flow, as a person there sees the default repository. */
export interface FlowForge {
  /** A person opens an issue (a goal the Mayor planned). */
  openIssue(title: string): Promise<{ number: number; url: string }>;
  issue(issueNumber: number): { title: string; body: string; labels: string[]; comments: string[] } | null;
  /** Numbers of the issues with this title. */
  issuesTitled(title: string): number[];
}

export interface RigProviderFixture {
  /** A provider over the fixture's rigs; each call is a new one, as a restarted process opens. */
  provider(): RigProvider;
  /** A repository the provider does not serve; null when it serves any name (an unnamed rig). */
  unknownRepo: string | null;
  /** Logins the provider's permissions know as writers, and logins that have less. */
  people: { writers: string[]; others: string[] };
  /** The forge an issue flow hands work to; null when the provider has no issue flow. */
  forge: FlowForge | null;
  close(): Promise<void>;
}

let seq = 0;

function plan(label: string): Plan {
  return {
    summary: `${label} plan`,
    beads: [0, 1].map((i) => ({
      key: `${label}-${i}`,
      title: `${label} step ${i}`,
      description: `Do ${label} step ${i}`,
      acceptance: [],
      files: [],
      blockedBy: [],
    })),
  };
}

/** A planned convoy awaiting approval (its beads are not dispatchable), from issue `issue` of `repo`. */
function recordAwaiting(rig: Rig, repo: string, issue: { number: number; url: string }): Promise<RecordedConvoy> {
  const label = `goal${++seq}`;
  return recordPlan(rig.withActor('mayor'), {
    sourceKey: githubSourceKey(repo, issue.number),
    title: `Goal ${label}`,
    source: { kind: 'github', repo, issue },
    plan: plan(label),
    planner: 'checklist',
    usage: null,
    requireApproval: true,
  });
}

/** The repository a provider is asked about when one must be named. */
const nameOf = (p: RigProvider) => p.defaultRepo ?? 'acme/web';

export function rigProviderSuite(name: string, makeFixture: () => Promise<RigProviderFixture>): void {
  describe(`RigProvider conformance: ${name}`, () => {
    let fx: RigProviderFixture;
    let provider: RigProvider;

    beforeAll(async () => {
      fx = await makeFixture();
      provider = fx.provider();
    });
    afterAll(async () => {
      await provider?.close();
      await fx?.close();
    });

    /** A forge issue for a goal; without a forge, a number nobody looks up. */
    const goalIssue = async (title: string) =>
      fx.forge ? fx.forge.openIssue(title) : { number: 100 + ++seq, url: `https://forge.invalid/issues/${seq}` };

    it('withRig(null) opens the default repository’s rig, the same one its name (in any case) opens', async () => {
      const repos = await provider.repos();
      if (provider.defaultRepo === null && !repos.includes(null)) {
        const err = await provider.withRig(null, async () => 'ran').catch((e: unknown) => e);
        expect(isGastownError(err, 'gastown_bad_input'), String(err)).toBe(true);
        return;
      }
      const repo = nameOf(provider);
      const issue = await goalIssue('Same rig');

      const recorded = await provider.withRig(null, (rig) => recordAwaiting(rig, repo, issue));
      const byName = await provider.withRig(repo, (rig) => findConvoyBySource(rig, githubSourceKey(repo, issue.number)));
      const byOtherCase = await provider.withRig(repo.toUpperCase(), (rig) => findConvoyBySource(rig, githubSourceKey(repo, issue.number)));

      expect(byName?.convoy.id).toBe(recorded.convoy.id);
      expect(byOtherCase?.convoy.id).toBe(recorded.convoy.id);
    });

    it('a repository it does not serve is gastown_not_found, for withRig and for permissions', async () => {
      if (fx.unknownRepo === null) {
        // An unnamed rig serves whatever name it is asked by: the same rig.
        const issue = await goalIssue('Any name');
        const recorded = await provider.withRig(null, (rig) => recordAwaiting(rig, 'acme/web', issue));
        const found = await provider.withRig('someone/else', (rig) => findConvoyBySource(rig, githubSourceKey('acme/web', issue.number)));
        expect(found?.convoy.id).toBe(recorded.convoy.id);
        return;
      }
      let ran = false;

      const err = await provider
        .withRig(fx.unknownRepo, async () => {
          ran = true;
        })
        .catch((e: unknown) => e);
      const asked = provider.permissions
        ? await provider.permissions(fx.people.writers[0] ?? 'octocat', fx.unknownRepo).catch((e: unknown) => e)
        : null;

      expect(isGastownError(err, 'gastown_not_found'), String(err)).toBe(true);
      expect(ran).toBe(false);
      if (provider.permissions) expect(isGastownError(asked, 'gastown_not_found'), String(asked)).toBe(true);
    });

    it('repos() lists the default repository first, each repository once, and every one opens', async () => {
      const repos = await provider.repos();

      const keys = repos.map((r) => r?.toLowerCase() ?? null);
      expect(new Set(keys).size).toBe(keys.length);
      if (provider.defaultRepo !== null) expect(repos[0]).toBe(provider.defaultRepo);
      else expect(repos.includes(null) ? repos[0] : null).toBeNull();
      for (const repo of repos) expect(await provider.withRig(repo, async (rig) => typeof rig.ledger.get)).toBe('function');
    });

    it('permissions, when present, answer a REPO_PERMISSIONS level: write or above for writers only', async () => {
      const check = provider.permissions;
      if (!check) return;
      const repo = nameOf(provider);

      const writers = await Promise.all(fx.people.writers.map((login) => check(login, repo)));
      const others = await Promise.all(fx.people.others.map((login) => check(login, repo)));

      for (const level of [...writers, ...others]) expect(isRepoPermission(level), level).toBe(true);
      expect(writers.map(hasWrite)).toEqual(fx.people.writers.map(() => true));
      expect(others.map(hasWrite)).toEqual(fx.people.others.map(() => false));
    });

    it('a goal from a surface: with an issue flow it becomes a forge issue, without one this process plans and dispatches', async () => {
      const repo = nameOf(provider);
      const services = createRigSlackServices(provider, { goalWaitMs: 0, goalPollMs: 0 });
      const title = `Tidy up ${++seq}`;
      const goal = `${title}\n- [ ] Remove dead code\n- [ ] Update the README`;

      const result = await services.slingGoal(goal, repo, 'ada').catch((e: unknown) => e);

      if (provider.issueFlow) {
        // The forge's flow plans it (later, on its webhook): here it is only an open issue.
        expect(isGastownError(result, 'gastown_not_ready'), String(result)).toBe(true);
        const [number] = forgeOf(fx).issuesTitled(title);
        expect(number).toBeDefined();
        const issue = forgeOf(fx).issue(number!);
        expect(issue?.body).toContain('- [ ] Remove dead code');
        expect(issue?.body).toContain('@ada');
        expect(issue?.labels.length).toBeGreaterThan(0);
        expect(await provider.withRig(repo, (rig) => findConvoyBySource(rig, githubSourceKey(repo, number!)))).toBeNull();
        return;
      }
      const convoy = result as { id: string; title: string; status: string; beads: string[] };
      expect(convoy).toMatchObject({ title, status: 'active' });
      const beads = await provider.withRig(repo, (rig) => Promise.all(convoy.beads.map((id) => getBead(rig, id))));
      expect(beads.map((b) => b.status)).toEqual(['hooked', 'hooked']);
    });

    it('approving a plan: with an issue flow it is asked on the issue as the person, without one this process dispatches', async () => {
      const repo = nameOf(provider);
      const issue = await goalIssue('Needs approval');
      const recorded = await provider.withRig(repo, (rig) => recordAwaiting(rig, repo, issue));
      const services = createRigSlackServices(provider);

      await services.approve(recorded.convoy.id, 'ada');

      const after = await provider.withRig(repo, (rig) => findConvoyBySource(rig, githubSourceKey(repo, issue.number)));
      if (provider.issueFlow) {
        expect(after?.convoy.approved).toBe(false);
        expect(after?.beads.map((b) => b.status)).toEqual(['open', 'open']);
        const comments = forgeOf(fx).issue(issue.number)?.comments ?? [];
        expect(comments).toEqual([expect.stringMatching(/^\/gt approve\b[\s\S]*@ada/)]);
        return;
      }
      expect(after?.convoy).toMatchObject({ approved: true, approvedBy: 'ada', status: 'active' });
      expect(after?.beads.map((b) => b.status)).toEqual(['hooked', 'hooked']);
    });

    it('close() is safe twice, and what was written stays for the next provider', async () => {
      const first = fx.provider();
      const repo = nameOf(first);
      const issue = await goalIssue('Outlives its provider');
      const recorded = await first.withRig(repo, (rig) => recordAwaiting(rig, repo, issue));

      await first.close();
      await first.close();
      const next = fx.provider();
      const found = await next
        .withRig(repo, (rig) => findConvoyBySource(rig, githubSourceKey(repo, issue.number)))
        .finally(() => next.close());

      expect(found?.convoy.id).toBe(recorded.convoy.id);
    });
  });
}

function forgeOf(fx: RigProviderFixture): FlowForge {
  if (!fx.forge) throw new Error('the provider has an issue flow but the fixture gives no forge to look at');
  return fx.forge;
}
