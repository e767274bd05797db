/**
 * One runner of `npm run bench:scale` (bench/scale.ts starts 32): in its own clone, sync,
 * claim one of the work beads (published to the remote at once, as gt runner does), sync, heartbeat, sync, finish, sync, until no work bead is
 * left in its view. Prints `finished <bead>` as it goes (the bench's progress line counts
 * them), then one JSON line: sync times, claims, lost claims, push retries, and every
 * acknowledged write (a bead commit a sync has since got onto the remote). An error ends it
 * with exit code 1 and the error on stderr, which the bench prints.
 *
 *   node --import tsx bench/scale-runner.ts <clone> <remote> <runner-name> <work-ids-file>
 */
import { readFileSync } from 'node:fs';
import { GastownError } from '../src/errors.js';
import { Rig } from '../src/rig/rig.js';
import { syncRig } from '../src/rig/sync-rig.js';
import { claimBead, finishBead, heartbeat, isLeaseLost } from '../src/rig/work.js';
import { claimOnRemote } from '../src/polecat/runner/publish-claim.js';
import type { Bead, Heartbeat } from '../src/town/types.js';

const [clone, remote, name, workFile] = process.argv.slice(2) as [string, string, string, string];
const work: string[] = JSON.parse(readFileSync(workFile, 'utf8'));
const rig = await Rig.open({ repoDir: clone, actor: name });
const syncMs: number[] = [];
let pushRetries = 0;
let claims = 0;
let lost = 0;
let claimRaces = 0;
const acked: { ref: string; oid: string }[] = [];
let pending: { ref: string; oid: string }[] = [];

let gaveUp = 0;
/** A sync that gives up this many times in a row is not contention any more: the runner fails, saying so. */
const MAX_GIVE_UPS = 30;
async function sync(): Promise<void> {
  for (let tries = 1; ; tries++) {
    const t = performance.now();
    try {
      const r = await syncRig(rig, remote);
      syncMs.push(performance.now() - t);
      pushRetries += r.attempts - 1;
      break;
    } catch (e) {
      // Every runner appends to the mayor's inbox: a sync can lose the race for it six
      // times running. A runner syncs again on its next beat; so does this one, after a pause.
      if (!(e instanceof GastownError) || !/rejected \d+ times/.test(e.message)) throw e;
      if (tries >= MAX_GIVE_UPS) throw new Error(`${name}: ${tries} syncs in a row gave up: ${e.message}`);
      syncMs.push(performance.now() - t);
      pushRetries += 6;
      gaveUp++;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
  // The remote now holds what was written before this sync (merged, not replaced).
  acked.push(...pending);
  pending = [];
}

/** Notes the bead's commit just written, acknowledged by the next successful sync. */
async function wrote(bead: string): Promise<void> {
  const v = await rig.ledger.get<Bead>('beads', bead);
  if (v) pending.push({ ref: `${rig.ledger.prefix}beads/${bead}`, oid: v.oid });
}

const order = [...work].sort(() => Math.random() - 0.5);
await sync();
// A view that stops changing (a bead hooked but claimable by none) must not spin forever.
for (let idle = 0; idle < 20; ) {
  const beads = await rig.ledger.getMany<Bead>('beads', order);
  const open = beads.filter((b) => b.value.status === 'hooked').map((b) => b.id);
  if (open.length === 0) break;
  let did = false;
  for (const id of open) {
    // As gt runner does: the claim is pushed to the remote (one atomic compare-and-swap)
    // before any work, so a runner in another clone sees it at once.
    let raced = 0;
    const claim = await claimOnRemote(
      rig,
      remote,
      () => claimBead(rig, { runner: name, bead: id, track: true }),
      () => raced++,
    );
    claimRaces += raced;
    if (!claim) continue;
    await wrote(id);
    await sync();
    // Two runners may claim one bead offline; after the merge one holds the lease.
    const beat = await rig.ledger.get<Heartbeat>('heartbeats', claim.polecat);
    const bead = await rig.ledger.get<Bead>('beads', id);
    if (beat?.value.runner !== name || bead?.value.status !== 'in_progress') {
      lost++;
      continue;
    }
    claims++;
    did = true;
    try {
      await heartbeat(rig, claim);
      await sync();
      await finishBead(rig, claim, { branch: claim.branch, summary: `done by ${name}` });
      await wrote(id);
      await sync();
      process.stdout.write(`finished ${id}\n`);
    } catch (e) {
      if (!isLeaseLost(e)) throw e;
      lost++;
      await sync();
    }
    break;
  }
  if (!did) {
    idle++;
    await sync();
  }
}
rig.close();
process.stdout.write(`${JSON.stringify({ name, syncMs, claims, lost, claimRaces, pushRetries, gaveUp, acked })}\n`);
