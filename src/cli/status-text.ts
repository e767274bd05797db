import type { RigStatus } from '../rig/status.js';
import { progressBar } from '../town/convoy.js';
import { table } from './output.js';

/** `gt status` as text: bead counts, the first convoys with their progress, the polecats, the remote. */
export function statusText(s: RigStatus): string {
  const lines = [
    `beads: ${s.beads.total} total, ${s.beads.ready} ready, ${s.beads.open} open, ${s.beads.hooked} hooked, ${s.beads.in_progress} in progress, ${s.beads.in_review} in review, ${s.beads.closed} closed, ${s.beads.failed} failed`,
  ];
  if (s.convoys.length) {
    lines.push('', 'convoys:');
    for (const { convoy: c, progress: p } of s.convoys.slice(0, 10))
      lines.push(`  ${c.id} ${c.status.padEnd(17)} ${progressBar(p, 20)}  ${c.title}`);
  }
  if (s.polecats.length) {
    lines.push('', 'polecats:');
    lines.push(
      table(
        s.polecats.map((p) => [
          `  ${p.name}`,
          p.bead ? `${p.bead} ${p.status}` : 'idle',
          p.stale ? 'STALLED' : '',
          `${p.beadsDone} done`,
          p.beadTitle ?? '',
        ]),
      ),
    );
  }
  lines.push('', `remote: ${s.remote ?? 'none'}`);
  return lines.join('\n');
}
