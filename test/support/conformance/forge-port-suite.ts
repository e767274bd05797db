/**
 * The `ForgePort` contract (src/forge/forge-port.ts), as one suite every adapter runs
 * (git-bug's `RepoTest`: the same tests, each back end). What it states, from the port's
 * comments:
 *
 * - every `ensure*` is idempotent: twice, in one delivery or in a later one (a new adapter,
 *   as a redelivered webhook gets), leaves the forge as once and answers the same id;
 * - methods that create return null exactly when the forge has no such object, and then
 *   `hostsPullRequests` is false (the null adapter: every call succeeds, nothing exists);
 * - `setLabels` adding a present or removing an absent label is a no-op, `closeIssue` on a
 *   closed issue is a no-op; `comment` and `dispatchWorkflow` are not idempotent.
 *
 * The suite never asks which adapter it has: it reads the capability. For a forge that is a
 * host it looks at the host's own state through `ForgeHost` (what a person would see there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGastownError } from '../../../src/errors.js';
import type { ForgeLink, ForgePort } from '../../../src/forge/forge-port.js';
import type { Bead } from '../../../src/town/types.js';
import { bead as beadFixture } from '../../town/bead-fixture.js';

export interface HostIssue {
  title: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  /** Numbers of its sub-issues. */
  subIssues: number[];
  /** Numbers of the issues blocking it. */
  blockedBy: number[];
}

/** The code host behind an adapter, seen and changed as a person on it would. */
export interface ForgeHost {
  /** A person opens an issue. */
  openIssue(title: string, labels?: string[]): Promise<ForgeLink>;
  /** A person edits an issue's title. */
  editTitle(issueNumber: number, title: string): void;
  /** A branch one commit ahead of `base`, pushed to the host. */
  pushBranch(name: string): Promise<void>;
  issue(issueNumber: number): HostIssue | null;
  /** Every issue whose body carries `<!-- gastown:bead <id> -->`. */
  issuesMarked(beadId: string): number[];
  comments(issueNumber: number): { id: number; body: string }[];
  /** How many times the comment was edited after it was posted. */
  commentEdits(commentId: number): number;
  openPullRequests(head: string): number[];
  /** Workflow runs started so far. */
  runs(): { workflow: string; ref: string; inputs: Record<string, string> }[];
}

export interface ForgeFixture {
  /** A fresh adapter, as one webhook delivery gets (adapters may cache within a delivery). */
  forge(): ForgePort;
  /** The host the adapter writes to; null for a forge that is no host (the null adapter). */
  host: ForgeHost | null;
  /** The default branch pull requests target. */
  base: string;
  /** A workflow the host can run (`workflow_dispatch`) and the inputs it takes. */
  workflow: { file: string; inputs: Record<string, string> };
  close(): Promise<void>;
}

/** What the null adapter is handed where a host would have given a real issue. */
const NOWHERE: ForgeLink = { number: 1, url: 'https://forge.invalid/issues/1' };

let seq = 0;
const unique = (label: string) => `${label}-${process.pid}-${++seq}`;

function bead(over: Partial<Bead> = {}): Bead {
  const id = `gt-${(++seq).toString(36).padStart(4, '0')}`;
  return beadFixture(id, { title: `Step ${id}`, body: 'Do the step.', convoy: 'cv-conf', key: id, ...over });
}

const statusBody = (convoy: string, text: string) => `<!-- gastown:convoy ${convoy} -->\n${text}\n`;

export function forgePortSuite(name: string, makeFixture: () => Promise<ForgeFixture>): void {
  describe(`ForgePort conformance: ${name}`, () => {
    let fx: ForgeFixture;

    beforeAll(async () => {
      fx = await makeFixture();
    });
    afterAll(async () => {
      await fx?.close();
    });

    /** The host, which a forge that hosts pull requests must show the suite. */
    function host(forge: ForgePort): ForgeHost | null {
      if (!forge.hostsPullRequests) return null;
      if (fx.host === null) throw new Error(`${name}: hostsPullRequests is true but the fixture gives no host to look at`);
      return fx.host;
    }

    /** One bead's issue through the batch call; null when the forge has none. */
    async function childIssue(forge: ForgePort, b: Bead, parent: ForgeLink, labels: string[]): Promise<ForgeLink | null> {
      const [link] = await forge.ensureChildIssues(parent, [{ bead: b, labels }], async () => undefined);
      return link ?? null;
    }

    async function parentIssue(forge: ForgePort): Promise<ForgeLink> {
      return host(forge)?.openIssue(unique('Goal')) ?? NOWHERE;
    }

    it('creates objects exactly when it hosts pull requests, and answers null otherwise', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const head = unique('polecat/nux/gt-pr0');
      if (forge.hostsPullRequests) await fx.host!.pushBranch(head);

      const made = [
        await childIssue(forge, bead(), parent, []),
        await forge.ensureStatusComment(parent.number, statusBody(unique('cv'), 'status')),
        await forge.comment(parent.number, 'hello'),
        await forge.openPullRequest({ head, base: fx.base, title: 'Work', body: 'Body', draft: false }),
      ];

      expect(typeof forge.hostsPullRequests).toBe('boolean');
      if (forge.hostsPullRequests) for (const m of made) expect(m).not.toBeNull();
      else expect(made).toEqual([null, null, null, null]);
    });

    it('ensureChildIssue twice, in one delivery and in the next, gives one issue with one id', async () => {
      const first = fx.forge();
      const parent = await parentIssue(first);
      const b = bead();

      const a = await childIssue(first, b, parent, ['gastown:bead']);
      const again = await childIssue(first, b, parent, ['gastown:bead']);
      // A later delivery that lost the recorded link finds the issue by its marker.
      const redelivered = await childIssue(fx.forge(), b, parent, ['gastown:bead']);
      const linked = await childIssue(fx.forge(), { ...b, issue: a }, parent, ['gastown:bead']);

      const h = host(first);
      if (!h) {
        expect([a, again, redelivered, linked]).toEqual([null, null, null, null]);
        return;
      }
      expect([again?.number, redelivered?.number, linked?.number]).toEqual([a!.number, a!.number, a!.number]);
      expect(h.issuesMarked(b.id)).toEqual([a!.number]);
      expect(h.issue(a!.number)?.labels).toEqual(['gastown:bead']);
    });

    it('ensureChildIssue reuses an existing issue as it is: no new labels, no overwritten edits', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const b = bead();
      const a = await childIssue(forge, b, parent, ['gastown:bead']);
      if (a) host(forge)!.editTitle(a.number, 'Renamed by a person');

      const later = await childIssue(fx.forge(), b, parent, ['gastown:bead', 'extra']);

      const h = host(forge);
      if (!h) {
        expect(later).toBeNull();
        return;
      }
      expect(later?.number).toBe(a!.number);
      expect(h.issue(a!.number)).toMatchObject({ title: 'Renamed by a person', labels: ['gastown:bead'] });
    });

    it('sub-issue links and ensureBlockedBy twice, in one delivery and in the next, make one link each', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const child = (await childIssue(forge, bead(), parent, [])) ?? NOWHERE;
      const blocker = (await childIssue(forge, bead(), parent, [])) ?? NOWHERE;

      for (const f of [forge, forge, fx.forge()]) {
        await f.ensureChildIssues(parent, [], async () => undefined);
        await f.ensureBlockedBy([{ child, blocker }]);
      }
      // A link that knows only the number (no database id) means the same issue.
      await fx
        .forge()
        .ensureBlockedBy([{ child: { number: child.number, url: child.url }, blocker: { number: blocker.number, url: blocker.url } }]);

      const h = host(forge);
      if (!h) return;
      expect(h.issue(parent.number)?.subIssues).toEqual([child.number, blocker.number]);
      expect(h.issue(child.number)?.blockedBy).toEqual([blocker.number]);
      expect(h.issue(blocker.number)?.blockedBy).toEqual([]);
    });

    it('removeBlockedBy twice, in one delivery and in the next, removes the edge once; an absent edge is left alone', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const child = (await childIssue(forge, bead(), parent, [])) ?? NOWHERE;
      const kept = (await childIssue(forge, bead(), parent, [])) ?? NOWHERE;
      const dropped = (await childIssue(forge, bead(), parent, [])) ?? NOWHERE;
      await forge.ensureBlockedBy([
        { child, blocker: kept },
        { child, blocker: dropped },
      ]);

      for (const f of [forge, forge, fx.forge()]) await f.removeBlockedBy([{ child, blocker: dropped }]);
      await fx.forge().removeBlockedBy([{ child: kept, blocker: child }]);

      const h = host(forge);
      if (!h) return;
      expect(h.issue(child.number)?.blockedBy).toEqual([kept.number]);
      expect(h.issue(kept.number)?.blockedBy).toEqual([]);
    });

    it('ensureIssueText gives an issue its title and body, and a second call changes nothing', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const b = bead();
      const child = (await childIssue(forge, b, parent, [])) ?? NOWHERE;
      const text = { title: 'Re-planned title', body: `<!-- gastown:bead ${b.id} -->\n\nRe-planned body.` };
      for (const f of [forge, fx.forge()]) await f.ensureIssueText(child.number, text);

      const h = host(forge);
      if (!h) return;
      expect(h.issue(child.number)?.title).toBe('Re-planned title');
      expect(h.issuesMarked(b.id)).toEqual([child.number]);
    });

    it('ensureStatusComment creates one comment per marker, edits it only when the body differs, and keeps its id', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const convoy = unique('cv');
      const body = statusBody(convoy, '1 of 2 merged');

      const created = await forge.ensureStatusComment(parent.number, body);
      const same = await fx.forge().ensureStatusComment(parent.number, body, created);
      const foundByMarker = await fx.forge().ensureStatusComment(parent.number, body, null);
      const changed = await fx.forge().ensureStatusComment(parent.number, statusBody(convoy, '2 of 2 merged'), created);
      const other = await fx.forge().ensureStatusComment(parent.number, statusBody(unique('cv'), 'another convoy'));

      const h = host(forge);
      if (!h) {
        expect([created, same, foundByMarker, changed, other]).toEqual([null, null, null, null, null]);
        return;
      }
      expect([same, foundByMarker, changed]).toEqual([created, created, created]);
      expect(other).not.toBe(created);
      expect(h.comments(parent.number).map((c) => c.body)).toEqual([
        statusBody(convoy, '2 of 2 merged'),
        expect.stringContaining('another convoy'),
      ]);
      expect(h.commentEdits(created!)).toBe(1);
    });

    it('ensureStatusComment does not take over a known comment id that no longer holds its marker', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const body = statusBody(unique('cv'), 'status');
      const status = await forge.ensureStatusComment(parent.number, body);
      const plain = await forge.comment(parent.number, 'a reply to a person');

      const kept = await fx.forge().ensureStatusComment(parent.number, body, plain);

      const h = host(forge);
      if (!h) {
        expect([status, plain, kept]).toEqual([null, null, null]);
        return;
      }
      expect(kept).toBe(status);
      expect(h.comments(parent.number).map((c) => c.body)).toEqual([body, 'a reply to a person']);
      expect(h.commentEdits(plain!)).toBe(0);
    });

    it('ensureStatusComment refuses a body without a gastown marker (gastown_bad_input)', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);

      const err = await forge.ensureStatusComment(parent.number, 'no marker here').then(
        () => null,
        (e: unknown) => e,
      );

      expect(isGastownError(err, 'gastown_bad_input')).toBe(true);
      if (host(forge)) expect(host(forge)!.comments(parent.number)).toEqual([]);
    });

    it('prime, when offered, is a hint that never changes the answer', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);
      const body = statusBody(unique('cv'), 'status');
      const created = await forge.ensureStatusComment(parent.number, body);
      const listing = host(forge)?.comments(parent.number) ?? [];

      const primed = fx.forge();
      primed.prime?.(parent.number, { comments: listing });
      const found = await primed.ensureStatusComment(parent.number, body);

      expect(found).toBe(created);
      if (host(forge)) expect(host(forge)!.comments(parent.number)).toHaveLength(1);
    });

    it('setLabels: adding a present label or removing an absent one is a no-op; twice is once', async () => {
      const forge = fx.forge();
      const h = host(forge);
      const issue = (await h?.openIssue(unique('Labelled'), ['keep', 'drop'])) ?? NOWHERE;

      await forge.setLabels(issue.number, { add: ['keep', 'new'], remove: ['drop', 'never-there'] });
      const afterOnce = h?.issue(issue.number)?.labels;
      await fx.forge().setLabels(issue.number, { add: ['keep', 'new'], remove: ['drop', 'never-there'] });
      const afterTwice = h?.issue(issue.number)?.labels;
      await forge.setLabels(issue.number, {});

      if (!h) return;
      expect(afterOnce).toEqual(['keep', 'new']);
      expect(afterTwice).toEqual(['keep', 'new']);
      expect(h.issue(issue.number)?.labels).toEqual(['keep', 'new']);
    });

    it('comment is not idempotent: each call posts a new comment', async () => {
      const forge = fx.forge();
      const parent = await parentIssue(forge);

      const one = await forge.comment(parent.number, 'On it.');
      const two = await forge.comment(parent.number, 'On it.');

      const h = host(forge);
      if (!h) {
        expect([one, two]).toEqual([null, null]);
        return;
      }
      expect(one).not.toBe(two);
      expect(h.comments(parent.number)).toEqual([
        { id: one, body: 'On it.' },
        { id: two, body: 'On it.' },
      ]);
    });

    it('closeIssue on a closed issue is a no-op: the first close and its reason stand', async () => {
      const forge = fx.forge();
      const h = host(forge);
      const issue = (await h?.openIssue(unique('Done soon'))) ?? NOWHERE;

      await forge.closeIssue(issue.number, 'not_planned');
      await forge.closeIssue(issue.number, 'not_planned');
      await fx.forge().closeIssue(issue.number);

      if (!h) return;
      expect(h.issue(issue.number)).toMatchObject({ state: 'closed', stateReason: 'not_planned' });
    });

    it('closeIssue closes as completed unless told otherwise', async () => {
      const forge = fx.forge();
      const h = host(forge);
      const issue = (await h?.openIssue(unique('Done'))) ?? NOWHERE;

      await forge.closeIssue(issue.number);

      if (!h) return;
      expect(h.issue(issue.number)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    });

    it('openPullRequest twice, in one delivery and in the next, gives the one open pull request', async () => {
      const forge = fx.forge();
      const head = unique('polecat/nux/gt-pr');
      const h = host(forge);
      await h?.pushBranch(head);
      const input = { head, base: fx.base, title: 'Step', body: 'Closes #1', draft: false };

      const first = await forge.openPullRequest(input);
      const again = await forge.openPullRequest(input);
      const later = await fx.forge().openPullRequest({ ...input, title: 'Step, retried' });

      if (!h) {
        expect([first, again, later]).toEqual([null, null, null]);
        return;
      }
      expect([again?.number, later?.number]).toEqual([first!.number, first!.number]);
      expect(h.openPullRequests(head)).toEqual([first!.number]);
    });

    it('dispatchWorkflow is not idempotent: each call starts one run with the inputs', async () => {
      const forge = fx.forge();
      const h = host(forge);
      const before = h?.runs().length ?? 0;

      await forge.dispatchWorkflow({ workflow: fx.workflow.file, ref: fx.base, inputs: fx.workflow.inputs });
      await forge.dispatchWorkflow({ workflow: fx.workflow.file, ref: fx.base, inputs: fx.workflow.inputs });

      if (!h) return;
      const runs = h.runs().slice(before);
      expect(runs).toEqual([
        { workflow: fx.workflow.file, ref: fx.base, inputs: fx.workflow.inputs },
        { workflow: fx.workflow.file, ref: fx.base, inputs: fx.workflow.inputs },
      ]);
    });
  });
}
