import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeBead, getBead } from '../../src/rig/beads.js';
import { inbox } from '../../src/rig/mail.js';
import { sling } from '../../src/rig/sling.js';
import { createRigSlackServices } from '../../src/slack/rig-services.js';
import type { SlackServices } from '../../src/slack/services.js';
import { recordConvoy, REPO, tempRig, type TempRig } from './rig-fixture.js';

let town: TempRig;
let services: SlackServices;
let writes: number;

beforeEach(async () => {
  town = await tempRig();
  writes = 0;
  services = createRigSlackServices(town.provider, { onWrite: () => (writes += 1) });
});

afterEach(async () => {
  await town.cleanup();
});

describe('Slack services over a local rig', () => {
  it('re-slings a hooked bead: off its polecat, onto a free one, and nudges the pumps', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Resling'));
    await town.rig((rig) => sling(rig, c.beads[0]!.id, 'nux'));

    const r = await services.resling(c.beads[0]!.id, 'octocat');

    const bead = await town.rig((rig) => getBead(rig, c.beads[0]!.id));
    expect(bead).toMatchObject({ status: 'hooked', assignee: r.polecat });
    expect(writes).toBe(1);
  });

  it('refuses to re-sling a bead in review or closed', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Closed', { beads: 1 }));
    await town.rig((rig) => closeBead(rig, c.beads[0]!.id));

    await expect(services.resling(c.beads[0]!.id, 'octocat')).rejects.toMatchObject({ code: 'gastown_illegal_transition' });
  });

  it('shows a convoy with its beads, and the feed and trail newest last', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Viewed'));
    await services.sling(c.beads[0]!.id, 'nux', 'octocat');
    await services.sling(c.beads[1]!.id, 'slit', 'octocat');

    const view = await services.convoy(c.convoy.id);
    const feed = await services.feed(2);
    const trail = await services.trail(50);

    expect(view.beads.map((b) => b.id)).toEqual(c.beads.map((b) => b.id));
    expect(feed.map((e) => e.message)).toEqual([`${c.beads[0]!.id} slung to nux`, `${c.beads[1]!.id} slung to slit`]);
    expect(trail.at(-1)!.at >= trail[0]!.at).toBe(true);
    expect(trail.some((t) => t.bead === c.beads[1]!.id && t.summary.includes('hooked'))).toBe(true);
  });

  it('sends mail with the first line as subject, from the person, to the inbox the CLI reads', async () => {
    await services.sendMail('octocat', 'nux', 'Please rebase\nThe main branch moved.');

    const [m] = await town.rig((rig) => inbox(rig, 'nux'));
    expect(m).toMatchObject({ from: 'octocat', to: 'nux', subject: 'Please rebase', body: 'Please rebase\nThe main branch moved.' });
    expect((await services.inbox('nux')).map((x) => x.id)).toEqual([m!.id]);
  });

  it("sets a convoy's budget (bad amounts refused) and engages and releases the emergency stop", async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Budgeted', { beads: 1 }));
    await expect(services.budget(c.convoy.id, 'a lot', 'octocat')).rejects.toThrow(/^not a budget: "a lot"/);

    const r = await services.budget(c.convoy.id, '+$5', 'octocat');
    expect(r.text).toBe('$5.00; spent $0.00 of $5.00 (0 tokens)');
    expect(writes).toBe(1);

    expect(await services.estop(true, REPO, 'octocat')).toEqual({ changed: true });
    await expect(services.sling(c.beads[0]!.id, 'nux', 'octocat')).rejects.toThrow(/the emergency stop is engaged \(by octocat\)/);
    expect(await services.estop(true, REPO, 'octocat')).toEqual({ changed: false });
    expect(await services.estop(false, REPO, 'octocat')).toEqual({ changed: true });
    expect((await services.sling(c.beads[0]!.id, 'nux', 'octocat')).polecat).toBe('nux');
  });

  it('tells which repository a thing belongs to', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Owned'));

    expect(await services.repoOf({ convoy: c.convoy.id })).toBe(REPO);
    expect(await services.repoOf({ bead: c.beads[0]!.id })).toBe(REPO);
    expect(await services.repoOf({ bead: 'gt-zzzz9' })).toBeNull();
    expect(await services.repoOf({ agent: 'octocat' })).toBe(REPO);
  });

  it('shares one ledger read among identical concurrent reads, and reads afresh after a write', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Burst'));

    const [a, b] = await Promise.all([services.status(), services.status()]);
    await services.sling(c.beads[0]!.id, 'nux', 'octocat');
    const after = await services.status();

    expect(a).toBe(b);
    expect(a.beads.hooked).toBe(0);
    expect(after.beads.hooked).toBe(1);
  });

  it('answers for its own repository only', async () => {
    await expect(services.status('other/repo')).rejects.toMatchObject({
      code: 'gastown_not_found',
      message: `This Gas Town serves ${REPO} only, not other/repo.`,
    });
    await expect(services.convoy('cv-nothere0')).rejects.toMatchObject({ code: 'gastown_not_found' });
  });

  it('plans a goal with the local Mayor (checklist planner) and dispatches its ready beads', async () => {
    const convoy = await services.slingGoal('Tidy up\n- [ ] Remove dead code\n- [ ] Update the README', REPO, 'octocat');

    const beads = await town.rig((rig) => Promise.all(convoy.beads.map((id) => getBead(rig, id))));
    expect(convoy).toMatchObject({ title: 'Tidy up', status: 'active' });
    expect(beads.map((b) => [b.title, b.status])).toEqual([
      ['Remove dead code', 'hooked'],
      ['Update the README', 'hooked'],
    ]);
  });
});
