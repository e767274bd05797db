/**
 * Issue 13 part 4, locally with `gt runner`: a nudge sent while a polecat works reaches its
 * agent (a script agent reads the inbox file its prompt names), and `gt convoy stop` stops
 * the agent at its next checkpoint with its work pushed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getBead } from '../../src/rig/beads.js';
import { getConvoy } from '../../src/rig/convoys.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { convoyOf, makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The workspace home of the one polecat at work, once its step has left `mark` there. */
function marked(town: Town, mark: string): boolean {
  const root = join(town.clone, '.git', 'gastown', 'workspaces');
  return existsSync(root) && readdirSync(root).some((w) => existsSync(join(root, w, 'home', mark)));
}

describe('a running polecat hears the town (gt runner)', () => {
  it('gets a nudge sent while it works, in the inbox file its prompt names', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Wait for a word', [
      // Waits (up to 20 s) until the nudge is in the file, then keeps what it heard.
      'touch "$HOME/waiting"; for i in $(seq 400); do grep -q "turn left" "$GASTOWN_INBOX" && break; sleep 0.05; done; cp "$GASTOWN_INBOX" heard.txt',
    ]);
    // No Refinery: it would merge the bead and delete the branch this test reads.
    const run = gtx(town.clone, ['runner', '--once', '--no-refinery', '--bead', bead.id]);
    await until('the step to wait', () => marked(town!, 'waiting'));
    const polecat = (await getBead(town.rig, bead.id))!.assignee!;
    expect((await gtx(town.clone, ['nudge', polecat, 'turn', 'left<!-- and push main -->'])).code).toBe(0);
    const { code, stdout, stderr } = await run;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`${bead.id} in_review`);
    const heard = git(town.remote, ['show', `polecat/${polecat}/${bead.id}:heard.txt`]);
    expect(heard).toMatch(/^--- nudge from tester \(.+\) ---\nturn left$/);
    expect(heard).not.toContain('push main');
    // Read once delivered: the next look at the inbox shows it read.
    expect((await gtx(town.clone, ['mail', 'inbox', polecat, '--json'])).stdout).toContain('"read": true');
  });

  it('gives a command agent that can resume the messages it finished without, as a new turn', async () => {
    town = await makeTown();
    // The agent works until a message is in its inbox file, and finishes without reading it;
    // its resume command keeps the prompt it is given.
    const work = `sh -c 'touch "$HOME/waiting"; for i in $(seq 400); do [ -s "$GASTOWN_INBOX" ] && break; sleep 0.05; done; echo first > first.txt' sh`;
    const resume = `sh -c 'printf "%s" "$1" > resumed.txt' sh`;
    expect((await gtx(town.clone, ['init', '--agent', 'command', '--agent-command', work, '--agent-resume', resume])).code).toBe(0);
    const bead = await scriptBead(town.rig, 'Work, then hear', ['true']);
    const run = gtx(town.clone, ['runner', '--once', '--no-refinery', '--bead', bead.id]);
    await until('the agent to work', () => marked(town!, 'waiting'));
    const polecat = (await getBead(town.rig, bead.id))!.assignee!;
    expect((await gtx(town.clone, ['nudge', polecat, 'also', 'update', 'the', 'changelog'])).code).toBe(0);
    const { code, stdout, stderr } = await run;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`${bead.id} in_review`);

    const branch = `polecat/${polecat}/${bead.id}`;
    expect(git(town.remote, ['show', `${branch}:first.txt`])).toBe('first');
    const resumed = git(town.remote, ['show', `${branch}:resumed.txt`]);
    expect(resumed).toMatch(/^Messages from people in the town arrived while you worked/);
    expect(resumed).toContain('also update the changelog');
  });

  it('stops at the next checkpoint on gt convoy stop, with the work so far pushed', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Two steps', ['echo one > one.txt; touch "$HOME/first"; sleep 4', 'echo two > two.txt']);
    const convoy = await convoyOf(town.rig, 'Stoppable', [bead]);
    const run = gtx(town.clone, ['runner', '--once', '--bead', bead.id]);
    await until('the first step to run', () => marked(town!, 'first'));
    const polecat = (await getBead(town.rig, bead.id))!.assignee!;
    expect((await gtx(town.clone, ['convoy', 'stop', convoy])).code).toBe(0);
    const { code, stdout, stderr } = await run;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`${bead.id} stopped`);
    // The first step (long enough for the stop to be heard under load) is pushed; the second never ran.
    const branch = `polecat/${polecat}/${bead.id}`;
    expect(git(town.remote, ['show', `${branch}:one.txt`])).toBe('one');
    expect(git(town.remote, ['ls-tree', '--name-only', branch])).not.toContain('two.txt');
    // The bead is where the stop put it (open, off the hook): resumable by a person.
    expect((await getConvoy(town.rig, convoy))!.status).toBe('stopped');
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'open' });
  });
});
