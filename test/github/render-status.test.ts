import { describe, expect, it } from 'vitest';
import { renderConvoyStatus } from '../../src/github/render-status.js';
import type { Bead, Convoy } from '../../src/town/types.js';
import { bead as beadFixture } from '../town/bead-fixture.js';

const AT = '2026-01-02T03:04:05.000Z';

function bead(id: string, title: string, over: Partial<Bead> = {}): Bead {
  return beadFixture(id, { title, convoy: 'cv-9z', createdAt: AT, updatedAt: AT, ...over });
}

function convoy(over: Partial<Convoy> = {}): Convoy {
  return {
    id: 'cv-9z',
    title: 'Add --json everywhere',
    beads: ['gt-1a', 'gt-2b', 'gt-3c'],
    status: 'active',
    approved: true,
    approvedBy: null,
    source: null,
    planner: 'model',
    usage: { inputTokens: 12345, outputTokens: 678, cacheReadTokens: 9000, cacheWriteTokens: 100, costUsd: 0.0521 },
    createdAt: AT,
    updatedAt: AT,
    landedAt: null,
    ...over,
  };
}

const link = (n: number) => ({ number: n, id: 1000 + n, url: `https://github.com/o/r/issues/${n}` });

describe('renderConvoyStatus: what the polecats spent', () => {
  const run = (n: number) => ({
    run: `0.${n}`,
    polecat: 'nux',
    agent: 'builtin',
    at: AT,
    usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0045 },
  });

  it('shows spent against the budget and the beads paused for it', () => {
    const beads = [
      bead('gt-1a', 'One', { status: 'closed', usage: [run(1)] }),
      bead('gt-2b', 'Two', { status: 'hooked', assignee: 'nux', paused: 'budget', usage: [run(1), run(2)] }),
      bead('gt-3c', 'Three'),
    ];
    const markdown = renderConvoyStatus({ convoy: convoy({ budget: { usd: 0.01 } }), beads });
    expect(markdown).toContain(
      '**Spent by polecats:** $0.0135 of $0.01 (3300 tokens) · 1 bead paused: budget spent (`/gt budget +$5` adds more)',
    );
  });

  it('says nothing of polecat spending before any run, without a budget', () => {
    const markdown = renderConvoyStatus({ convoy: convoy(), beads: [bead('gt-1a', 'One')] });
    expect(markdown).not.toContain('Spent by polecats');
    expect(renderConvoyStatus({ convoy: convoy({ budget: { tokens: 5000 } }), beads: [bead('gt-1a', 'One')] })).toContain(
      '**Spent by polecats:** $0.00 (0 of 5000 tokens)',
    );
  });

  it("says when the plan's budget was clamped to the repository's maximum", () => {
    const note = 'the plan asked for $40.00; the repository allows at most $5.00';
    const markdown = renderConvoyStatus({ convoy: convoy({ budget: { usd: 5 }, budgetNote: note }), beads: [bead('gt-1a', 'One')] });
    expect(markdown).toContain(`**Budget clamped:** ${note}`);
    expect(renderConvoyStatus({ convoy: convoy({ budget: { usd: 5 } }), beads: [bead('gt-1a', 'One')] })).not.toContain('clamped');
  });
});

describe('renderConvoyStatus', () => {
  it('renders progress, checklist, graph by state and usage', () => {
    const beads = [
      bead('gt-1a', 'Output schema', { status: 'closed', issue: link(12) }),
      bead('gt-2b', 'JSON for "list" <cmd>', { status: 'in_review', issue: link(13), pr: link(20), blockedBy: ['gt-1a'] }),
      bead('gt-3c', 'Docs for `--json` by @octocat', { blockedBy: ['gt-2b', 'gt-elsewhere'], issue: link(14) }),
    ];

    const markdown = renderConvoyStatus({ convoy: convoy(), beads, repoUrl: 'https://github.com/o/r/' });

    expect(markdown).toMatchInlineSnapshot(`
      "<!-- gastown:convoy cv-9z -->
      ### Convoy \`cv-9z\`: Add --json everywhere

      **Status:** active · **Planner:** model

      \`[######--------------] 1/3 closed (33%)\`

      - [x] #12 Output schema — closed
      - [ ] #13 JSON for "list" &lt;cmd&gt; — in review · PR #20
      - [ ] #14 Docs for \`--json\` by \`@octocat\` — open

      \`\`\`mermaid
      graph TD
        b_gt_1a["#35;12 Output schema"]:::closed
        b_gt_2b["#35;13 JSON for #quot;list#quot; #lt;cmd#gt;"]:::in_review
        b_gt_3c["#35;14 Docs for #96;--json#96; by #96;@octocat#96;"]:::open
        b_gt_1a --> b_gt_2b
        b_gt_2b --> b_gt_3c
        click b_gt_1a "https://github.com/o/r/issues/12"
        click b_gt_2b "https://github.com/o/r/issues/13"
        click b_gt_3c "https://github.com/o/r/issues/14"
        classDef open fill:#ffffff,stroke:#6e7781
        classDef in_review fill:#fbefff,stroke:#8250df
        classDef closed fill:#dafbe1,stroke:#1a7f37
      \`\`\`

      **Tokens:** 12,345 input · 678 output · 9,000 cache read · 100 cache write · est. $0.0521
      "
    `);
  });

  it('tells how to approve a convoy awaiting approval, before any issue exists', () => {
    const beads = [bead('gt-1a', 'Output schema'), bead('gt-2b', 'List', { blockedBy: ['gt-1a'] })];

    const markdown = renderConvoyStatus({
      convoy: convoy({ status: 'awaiting_approval', approved: false, beads: ['gt-1a', 'gt-2b'], usage: null }),
      beads,
    });

    expect(markdown).toMatchInlineSnapshot(`
      "<!-- gastown:convoy cv-9z -->
      ### Convoy \`cv-9z\`: Add --json everywhere

      **Status:** awaiting approval · **Planner:** model

      \`[--------------------] 0/2 closed (0%)\`

      - [ ] Output schema — open
      - [ ] List — open

      \`\`\`mermaid
      graph TD
        b_gt_1a["Output schema"]:::open
        b_gt_2b["List"]:::open
        b_gt_1a --> b_gt_2b
        classDef open fill:#ffffff,stroke:#6e7781
      \`\`\`

      > [!IMPORTANT]
      > This plan is waiting for approval. Someone with write access to this repository can comment
      > \`/gt approve\` to create the child issues and start work.
      "
    `);
  });

  it('shows the last failure with how to retry, and strips hidden text from titles', () => {
    const beads = [bead('gt-1a', 'Schema <!-- gastown:bead gt-evil --> part\u200B two', { status: 'failed' })];

    const markdown = renderConvoyStatus({
      convoy: convoy({ beads: ['gt-1a'], usage: null }),
      beads,
      failure: { code: 'gastown_forge', message: 'GitHub refused to create issue (HTTP 500)' },
      mayorLabel: 'plan-me',
    });

    expect(markdown).toMatchInlineSnapshot(`
      "<!-- gastown:convoy cv-9z -->
      ### Convoy \`cv-9z\`: Add --json everywhere

      **Status:** active · **Planner:** model

      \`[--------------------] 0/1 closed (0%)\`

      - [ ] Schema part two — failed

      \`\`\`mermaid
      graph TD
        b_gt_1a["Schema part two"]:::failed
        classDef failed fill:#ffebe9,stroke:#cf222e
      \`\`\`

      > [!CAUTION]
      > The last attempt failed (\`gastown_forge\`): GitHub refused to create issue (HTTP 500)
      > Remove and re-add the \`plan-me\` label to retry; finished steps are not repeated.
      "
    `);
    expect(markdown.match(/<!-- gastown:/g)).toHaveLength(1);
  });
});

describe('renderConvoyStatus: beads at work', () => {
  it('says who works a bead in progress, and which revision round a bead sent back is in', () => {
    const beads = [
      bead('gt-1a', 'Output schema', { status: 'in_progress', assignee: 'furiosa', issue: link(12) }),
      bead('gt-2b', 'List', { status: 'in_progress', assignee: 'nux', revisions: 2, issue: link(13), pr: link(20) }),
      bead('gt-3c', 'Docs', { status: 'hooked', assignee: 'slit', revisions: 1, issue: link(14), pr: link(21) }),
    ];
    const lines = renderConvoyStatus({ convoy: convoy(), beads })
      .split('\n')
      .filter((l) => l.startsWith('- ['));
    expect(lines).toEqual([
      '- [ ] #12 Output schema — in progress by furiosa',
      '- [ ] #13 List — revising (round 2) by nux · PR #20',
      '- [ ] #14 Docs — revision round 1 queued by slit · PR #21',
    ]);
  });
});
