/**
 * The body of a bead's child issue. Starts with the hidden marker the forge finds it by; the
 * blocked-by edges are GitHub's native dependencies, so they are not repeated here.
 */
import type { Bead, ForgeLink } from '../town/types.js';
import { blockText, inlineText } from './markdown-text.js';
import { beadMarker } from '../town/ids.js';

export function renderBeadIssueTitle(bead: Bead): string {
  return inlineText(bead.title, 250);
}

export function renderBeadIssueBody(bead: Bead, parent: ForgeLink): string {
  const parts: string[] = [beadMarker(bead.id)];
  const description = blockText(bead.body);
  if (description !== '') parts.push(description);
  if (bead.acceptance.length > 0) {
    parts.push(['### Acceptance', ...bead.acceptance.map((a) => `- [ ] ${inlineText(a, 500)}`)].join('\n'));
  }
  if (bead.files.length > 0) {
    parts.push(['### Files', ...bead.files.map((f) => `- \`${f.replace(/`/g, '')}\``)].join('\n'));
  }
  const convoy = bead.convoy ? ` · convoy \`${bead.convoy}\`` : '';
  parts.push(`---\nPart of #${parent.number} · bead \`${bead.id}\`${convoy} · planned by the Gas Town Mayor`);
  return parts.join('\n\n');
}
