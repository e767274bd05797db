/**
 * The convoy status comment on the parent issue: the one place a person watches a convoy
 * on GitHub. Rendered from ledger records only, so re-rendering after any event gives the
 * same text and `ensureStatusComment` edits the comment only when something changed.
 */
import type { BranchProtection } from '../forge/branch-protection.js';
import { inlineText, markdownInline } from '../forge/markdown-text.js';
import { convoyProgress, progressBar } from '../town/convoy.js';
import { beadsSpent, spentText } from '../town/costs.js';
import type { Bead, BeadStatus, Convoy, ModelUsage } from '../town/types.js';
import { convoyMarker } from '../town/ids.js';

export interface RenderConvoyStatusInput {
  convoy: Convoy;
  beads: readonly Bead[];
  /** `https://github.com/owner/repo`: makes graph nodes clickable. */
  repoUrl?: string;
  /** Shown when the last attempt to plan or materialise failed. */
  failure?: { code: string; message: string } | null;
  /** The label whose removal and re-adding retries (from the repo config). */
  mayorLabel?: string;
  /** Whether the default branch is protected on GitHub: said when it is not, or cannot be checked. */
  protection?: BranchProtection | null;
}

const STATUS_WORDS: Record<BeadStatus, string> = {
  open: 'open',
  hooked: 'hooked',
  in_progress: 'in progress',
  in_review: 'in review',
  closed: 'closed',
  failed: 'failed',
};

const CLASS_DEFS: Record<BeadStatus, string> = {
  open: 'fill:#ffffff,stroke:#6e7781',
  hooked: 'fill:#fff8c5,stroke:#9a6700',
  in_progress: 'fill:#ddf4ff,stroke:#0969da',
  in_review: 'fill:#fbefff,stroke:#8250df',
  closed: 'fill:#dafbe1,stroke:#1a7f37',
  failed: 'fill:#ffebe9,stroke:#cf222e',
};

export function renderConvoyStatus(input: RenderConvoyStatusInput): string {
  const { convoy } = input;
  const byId = new Map(input.beads.map((b) => [b.id, b] as const));
  const beads = convoy.beads.map((id) => byId.get(id)).filter((b): b is Bead => b !== undefined);
  const progress = convoyProgress(convoy, beads);

  const sections: string[] = [
    `${convoyMarker(convoy.id)}\n### Convoy \`${convoy.id}\`: ${markdownInline(convoy.title)}`,
    `**Status:** ${convoy.status.replace(/_/g, ' ')} · **Planner:** ${convoy.planner}`,
    `\`${progressBar(progress)}\``,
    beads.length > 0 ? beads.map(checklistLine).join('\n') : '_No beads._',
  ];
  if (beads.length > 0) sections.push(mermaidGraph(beads, input.repoUrl));
  if (convoy.usage) sections.push(usageLine(convoy.usage));
  const spent = beadsSpent(beads);
  // What the polecats spent, against the budget when there is one (the planning above is apart).
  if (spent.runs > 0 || convoy.budget) {
    const paused = beads.filter((b) => b.paused === 'budget').length;
    sections.push(
      `**Spent by polecats:** ${spentText(spent, convoy.budget)}${convoy.budget ? '' : ' · no budget'}` +
        (paused ? ` · ${paused} bead${paused === 1 ? '' : 's'} paused: budget spent (\`/gt budget +$5\` adds more)` : ''),
    );
  }
  if (convoy.budgetNote) sections.push(`**Budget clamped:** ${markdownInline(convoy.budgetNote)}`);
  if (input.failure) {
    const label = input.mayorLabel ?? 'gastown:mayor';
    sections.push(
      [
        '> [!CAUTION]',
        `> The last attempt failed (\`${input.failure.code}\`): ${markdownInline(input.failure.message, 500)}`,
        `> Remove and re-add the \`${label}\` label to retry; finished steps are not repeated.`,
      ].join('\n'),
    );
  }
  const protection = protectionNote(input.protection);
  if (protection) sections.push(protection);
  if (convoy.status === 'awaiting_approval') {
    sections.push(
      [
        '> [!IMPORTANT]',
        '> This plan is waiting for approval. Someone with write access to this repository can comment',
        '> `/gt approve` to create the child issues and start work.',
      ].join('\n'),
    );
  }
  return `${sections.join('\n\n')}\n`;
}

/**
 * Polecats push only their own branches, but their token has contents: write: if everything
 * else failed, only a rule on GitHub's side would stop a push to the default branch.
 */
function protectionNote(p: BranchProtection | null | undefined): string | null {
  if (!p) return null;
  const branch = `\`${markdownInline(p.branch, 100)}\``;
  if (p.state === 'unprotected')
    return [
      '> [!WARNING]',
      `> ${branch} is not protected: ${markdownInline(p.detail, 300)}. Polecats push only their own branches, but their`,
      `> token may write to this repository, so only a rule on GitHub's side stops a push to ${branch} if anything else fails.`,
      `> Add a ruleset (Settings → Rules) or branch protection rule for ${branch} that requires a pull request.`,
    ].join('\n');
  // A refusal is a permission to grant; a failed read is said nowhere but the log (it may pass).
  if (p.state === 'unknown' && p.cause === 'refused')
    return ['> [!NOTE]', `> Gas Town could not check whether ${branch} is protected (${markdownInline(p.detail, 200)}).`].join('\n');
  return null;
}

function checklistLine(bead: Bead): string {
  const box = bead.status === 'closed' ? 'x' : ' ';
  const ref = bead.issue ? `#${bead.issue.number} ` : '';
  const pr = bead.pr ? ` · PR #${bead.pr.number}` : '';
  return `- [${box}] ${ref}${markdownInline(bead.title)} — ${statusWords(bead)}${pr}`;
}

/**
 * A bead at work says who works it, and a bead sent back (reviews, CI, the Refinery) says
 * which revision round it is in: queued on its polecat's hook, or being revised.
 */
function statusWords(bead: Bead): string {
  const round = bead.revisions ?? 0;
  const who = bead.assignee ? ` by ${markdownInline(bead.assignee, 40)}` : '';
  if (bead.status === 'in_progress') return round > 0 ? `revising (round ${round})${who}` : `in progress${who}`;
  if (bead.status === 'hooked' && round > 0) return `revision round ${round} queued${who}`;
  return STATUS_WORDS[bead.status];
}

function mermaidGraph(beads: readonly Bead[], repoUrl: string | undefined): string {
  const inConvoy = new Set(beads.map((b) => b.id));
  const lines = ['```mermaid', 'graph TD'];
  for (const bead of beads) {
    const label = `${bead.issue ? `#${bead.issue.number} ` : ''}${bead.title}`;
    lines.push(`  ${nodeId(bead.id)}["${mermaidLabel(label)}"]:::${bead.status}`);
  }
  for (const bead of beads) {
    for (const blocker of bead.blockedBy) {
      if (inConvoy.has(blocker)) lines.push(`  ${nodeId(blocker)} --> ${nodeId(bead.id)}`);
    }
  }
  if (repoUrl) {
    const base = repoUrl.replace(/\/+$/, '');
    for (const bead of beads) {
      if (bead.issue) lines.push(`  click ${nodeId(bead.id)} "${base}/issues/${bead.issue.number}"`);
    }
  }
  const used = new Set(beads.map((b) => b.status));
  for (const status of Object.keys(CLASS_DEFS) as BeadStatus[]) {
    if (used.has(status)) lines.push(`  classDef ${status} ${CLASS_DEFS[status]}`);
  }
  lines.push('```');
  return lines.join('\n');
}

/** Mermaid node ids allow letters, digits and underscores only. */
function nodeId(beadId: string): string {
  return `b_${beadId.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/**
 * A label inside `["..."]`: quotes, angle brackets, backticks (which could close the code
 * fence) and `#` (Mermaid's entity prefix) become Mermaid entity codes.
 */
function mermaidLabel(text: string): string {
  return inlineText(text, 80)
    .replace(/#/g, '#35;')
    .replace(/&/g, '#38;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;');
}

function usageLine(usage: ModelUsage): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const cost = usage.costUsd < 1 ? usage.costUsd.toFixed(4) : usage.costUsd.toFixed(2);
  return (
    `**Tokens:** ${n(usage.inputTokens)} input · ${n(usage.outputTokens)} output · ` +
    `${n(usage.cacheReadTokens)} cache read · ${n(usage.cacheWriteTokens)} cache write · est. $${cost}`
  );
}
