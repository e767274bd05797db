import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { allBeads, getBead } from '../../src/rig/beads.js';
import { getConvoy } from '../../src/rig/convoys.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import { git } from '../helpers/temp-repo.js';
import { convoyOf, makeTown, remoteLog, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

const agentFactory = () => createScriptAgent({ stepTimeoutMs: 20_000 });

describe('runRunner with the script agent and the local Refinery', () => {
  it('works 4 beads with 2 polecats in parallel, merges in dependency order and lands the convoy', async () => {
    town = await makeTown({ concurrency: 2 });
    const { rig } = town;
    const a = await scriptBead(rig, 'Add a', ['echo a > a.txt', 'echo more >> a.txt']);
    const b = await scriptBead(rig, 'Add b', ['echo b > b.txt']);
    const c = await scriptBead(rig, 'Add c after a', ['test -f a.txt', 'cat a.txt > c.txt'], { blockedBy: [a.id] });
    const d = await scriptBead(rig, 'Add d after b and c', ['cat b.txt c.txt > d.txt'], { blockedBy: [b.id, c.id] });
    const convoy = await convoyOf(rig, 'four beads', [a, b, c, d]);

    const lines: string[] = [];
    const summary = await runRunner({ rig, agentFactory, concurrency: 2, untilIdle: true, pollMs: 50, log: (l) => lines.push(l) });

    expect(summary.merged).toHaveLength(4);
    expect(summary.merged.indexOf(a.id)).toBeLessThan(summary.merged.indexOf(c.id));
    expect(summary.merged.indexOf(c.id)).toBeLessThan(summary.merged.indexOf(d.id));
    expect(summary.merged.indexOf(b.id)).toBeLessThan(summary.merged.indexOf(d.id));
    expect(summary.landed).toEqual([convoy]);
    expect((await getConvoy(rig, convoy)).status).toBe('landed');
    expect((await allBeads(rig)).map((x) => x.status)).toEqual(['closed', 'closed', 'closed', 'closed']);
    // main on the remote holds every bead's work, committed by the polecats themselves.
    git(town.clone, ['fetch', '-q', 'origin']);
    expect(git(town.clone, ['show', 'origin/main:d.txt'])).toBe('b\na\nmore');
    const authors = git(town.remote, ['log', '--format=%an <%ae>|%(trailers:key=Gastown-Bead,valueonly,separator=%x2C)', 'main']).split(
      '\n',
    );
    const beadCommits = authors.filter((l) => l.includes('|gt-'));
    expect(beadCommits.length).toBeGreaterThanOrEqual(5);
    for (const line of beadCommits) expect(line).toMatch(/@polecats\.gastown\.local>\|gt-/);
    expect(remoteLog(town.remote).at(-1)).toBe('seed');
    // Two polecats were used at once, and the local checkout of main was fast-forwarded.
    const polecats = new Set(summary.outcomes.map((o) => o.polecat));
    expect(polecats.size).toBe(2);
    expect(readFileSync(join(town.clone, 'd.txt'), 'utf8')).toBe('b\na\nmore\n');
    // The mayor heard from every polecat; the feed tells the story.
    const done = (await inbox(rig, 'mayor')).filter((m) => m.type === 'POLECAT_DONE');
    expect(done.map((m) => m.bead).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    const feed = (await readFeed(rig)).map((e) => e.type);
    expect(feed.filter((t) => t === 'merged')).toHaveLength(4);
    expect(feed).toContain('convoy_landed');
    // Polecat branches exist on the remote; nothing but main and polecat/* was pushed.
    const heads = git(town.remote, ['for-each-ref', '--format=%(refname)', 'refs/heads/']).split('\n');
    for (const h of heads) expect(h).toMatch(/^refs\/heads\/(main|polecat\/[a-z0-9-]+\/gt-[0-9a-z]+)$/);
    expect((await getBead(rig, d.id)).closeReason).toMatch(/^merged as [0-9a-f]{12}$/);
    // Progress: one line per polecat step, named by polecat and bead.
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^[a-z]+ +${a.id} +step 2/2: echo more >> a.txt$`)));
    expect(lines).toContain(`refinery: convoy ${convoy} landed`);
  });
});
