import { describe, expect, it } from 'vitest';
import {
  ACTION_APPROVE_PLAN,
  ACTION_REPLY_MAIL,
  ACTION_RESLING_BEAD,
  ACTION_STOP_CONVOY,
  beadActionBlocks,
  convoyBlocks,
  escapeMrkdwn,
  feedEventActions,
  feedEventBlocks,
  mailDmBlocks,
  noLinks,
  planApprovalBlocks,
  progressBar,
  replyModal,
  statusBlocks,
  VIEW_REPLY_MAIL,
} from '../../src/slack/blocks.js';
import { bead, convoy, feedEvent, mail } from './helpers.js';

function texts(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}

function buttons(blocks: any[]): any[] {
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);
}

describe('progressBar', () => {
  it('fills in proportion and prints the count', () => {
    expect(progressBar(0, 4)).toBe('▱▱▱▱▱▱▱▱▱▱ 0/4');
    expect(progressBar(2, 4)).toBe('▰▰▰▰▰▱▱▱▱▱ 2/4');
    expect(progressBar(4, 4)).toBe('▰▰▰▰▰▰▰▰▰▰ 4/4');
    expect(progressBar(0, 0)).toBe('▱▱▱▱▱▱▱▱▱▱ 0/0');
  });
});

describe('statusBlocks', () => {
  it('renders counts, convoys with links and polecats', () => {
    const blocks = statusBlocks({
      repo: 'acme/web',
      beads: { open: 2, hooked: 1, in_progress: 1, in_review: 0, closed: 3, failed: 0 },
      convoys: [
        { id: 'cv-9z8y', title: 'Auth rework', status: 'active', closed: 3, total: 7, url: 'https://github.com/acme/web/issues/12' },
      ],
      polecats: [{ name: 'nux', bead: 'gt-a1b2', state: 'working', lastSeenAt: null }],
    });

    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    const all = texts(blocks);
    expect(all).toContain('<https://github.com/acme/web/issues/12|cv-9z8y>');
    expect(all).toContain('3/7');
    expect(all).toContain('*nux* working on `gt-a1b2`');
    expect(all).not.toContain('in_review 0');
  });

  it('says so when there is nothing', () => {
    const blocks = statusBlocks({
      repo: null,
      beads: { open: 0, hooked: 0, in_progress: 0, in_review: 0, closed: 0, failed: 0 },
      convoys: [],
      polecats: [],
    });

    expect(texts(blocks)).toContain('*Convoys* none');
    expect(texts(blocks)).toContain('No polecats yet');
  });
});

describe('convoyBlocks', () => {
  it('shows progress and every bead with its state and link', () => {
    const beads = [
      bead({ id: 'gt-a1b2', status: 'closed', pr: { number: 7, url: 'https://github.com/acme/web/pull/7' } }),
      bead({ id: 'gt-c3d4', title: 'Use <Login> & co', status: 'in_progress', assignee: 'nux' }),
    ];

    const blocks = convoyBlocks({
      convoy: convoy({ status: 'active', approved: true, approvedBy: 'octocat' }),
      beads,
      url: 'https://github.com/acme/web/issues/12',
    });

    const all = texts(blocks);
    expect(blocks.every((b) => b.type === 'section')).toBe(true);
    expect(all).toContain('<https://github.com/acme/web/issues/12|cv-9z8y>');
    expect(all).toContain('1/2');
    expect(all).toContain('<https://github.com/acme/web/pull/7|gt-a1b2>');
    expect(all).toContain('_closed_');
    expect(all).toContain('`gt-c3d4` Use &lt;Login&gt; &amp; co _in_progress_ · nux');
    expect(all).toContain('approved by octocat');
  });

  it('shows what the polecats spent against the budget, and the beads paused for it', () => {
    const usage = { inputTokens: 2000, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.009 };
    const beads = [
      bead({
        id: 'gt-a1b2',
        status: 'hooked',
        paused: 'budget',
        usage: [{ run: '0.1', polecat: 'nux', agent: 'builtin', at: '2026-01-02T00:00:00Z', usage }],
      }),
    ];
    const all = texts(convoyBlocks({ convoy: convoy({ budget: { usd: 0.005 } }), beads, url: null }));
    expect(all).toContain('spent $0.009 of $0.005 (2200 tokens) · 1 paused: budget spent');
    expect(texts(convoyBlocks({ convoy: convoy(), beads: [bead({ id: 'gt-a1b2' })], url: null }))).not.toContain('spent');
  });

  it('splits long bead lists to stay under the section limit', () => {
    const beads = Array.from({ length: 120 }, (_, i) => bead({ id: `gt-${String(i).padStart(4, '0')}`, title: 'x'.repeat(40) }));

    const blocks = convoyBlocks({ convoy: convoy(), beads, url: null }) as any[];

    expect(blocks.length).toBeGreaterThan(2);
    for (const b of blocks) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect(texts(blocks)).toContain('gt-0119');
  });
});

describe('feedEventBlocks', () => {
  it('is one compact section linking the event', () => {
    const blocks = feedEventBlocks(
      feedEvent({ url: 'https://github.com/acme/web/pull/7', type: 'pr_opened', message: 'opened PR #7' }),
      noLinks,
    );

    expect(blocks).toMatchInlineSnapshot(`
      [
        {
          "text": {
            "text": ":eyes: *mayor* opened PR #7 · <https://github.com/acme/web/pull/7|gt-a1b2>",
            "type": "mrkdwn",
          },
          "type": "section",
        },
      ]
    `);
  });

  it('falls back to the bead link, then the convoy link', () => {
    const links = { bead: (id: string) => `https://x.test/b/${id}`, convoy: (id: string) => `https://x.test/c/${id}` };

    expect(texts(feedEventBlocks(feedEvent(), links))).toContain('<https://x.test/b/gt-a1b2|gt-a1b2>');
    expect(texts(feedEventBlocks(feedEvent({ bead: null, type: 'convoy_landed' }), links))).toContain('<https://x.test/c/cv-9z8y|cv-9z8y>');
  });
});

describe('buttons', () => {
  it('mail DMs carry a Reply button with who to answer', () => {
    const blocks = mailDmBlocks(mail());

    const [reply] = buttons(blocks);
    expect(reply.action_id).toBe(ACTION_REPLY_MAIL);
    expect(reply.text.text).toBe('Reply');
    expect(JSON.parse(reply.value)).toEqual({ mail: 'm-1', to: 'nux', bead: 'gt-a1b2' });
    expect(texts(blocks)).toContain('Mail from nux');
    expect(texts(blocks)).toContain('PR #7 is open');
  });

  it('plan approval has Approve plan and a confirmed Stop convoy', () => {
    const blocks = planApprovalBlocks(convoy(), [bead(), bead({ id: 'gt-c3d4', title: 'Session store' })]);

    const [approve, stop] = buttons(blocks);
    expect(approve).toMatchObject({ action_id: ACTION_APPROVE_PLAN, value: 'cv-9z8y', style: 'primary', text: { text: 'Approve plan' } });
    expect(stop).toMatchObject({ action_id: ACTION_STOP_CONVOY, value: 'cv-9z8y', style: 'danger', text: { text: 'Stop convoy' } });
    expect(stop.confirm).toBeDefined();
    expect(texts(blocks)).toContain('<https://github.com/acme/web/issues/12|cv-9z8y>');
    expect(texts(blocks)).toContain('`gt-c3d4` Session store');
  });

  it('bead actions have Re-sling bead', () => {
    const blocks = beadActionBlocks(bead({ status: 'failed', issue: { number: 3, url: 'https://github.com/acme/web/issues/3' } }));

    const [resling] = buttons(blocks);
    expect(resling).toMatchObject({ action_id: ACTION_RESLING_BEAD, value: 'gt-a1b2', text: { text: 'Re-sling bead' } });
    expect(texts(blocks)).toContain('<https://github.com/acme/web/issues/3|gt-a1b2>');
  });

  it('action ids are distinct', () => {
    expect(new Set([ACTION_APPROVE_PLAN, ACTION_STOP_CONVOY, ACTION_RESLING_BEAD, ACTION_REPLY_MAIL]).size).toBe(4);
  });

  it('the reply modal carries its target in private_metadata', () => {
    const view = replyModal({ mail: 'm-1', to: 'nux', bead: null });

    expect(view.type).toBe('modal');
    expect((view as any).callback_id).toBe(VIEW_REPLY_MAIL);
    expect(JSON.parse((view as any).private_metadata)).toEqual({ mail: 'm-1', to: 'nux', bead: null });
  });
});

describe('feedEventActions', () => {
  it('offers approve/stop on a planned convoy and re-sling on a failed or stalled bead', () => {
    const planned = buttons(feedEventActions(feedEvent({ type: 'convoy_planned', bead: null })));
    const failed = buttons(feedEventActions(feedEvent({ type: 'bead_failed' })));
    const stalled = buttons(feedEventActions(feedEvent({ type: 'stalled' })));

    expect(planned.map((b) => [b.action_id, b.value])).toEqual([
      [ACTION_APPROVE_PLAN, 'cv-9z8y'],
      [ACTION_STOP_CONVOY, 'cv-9z8y'],
    ]);
    expect(failed.map((b) => [b.action_id, b.value])).toEqual([[ACTION_RESLING_BEAD, 'gt-a1b2']]);
    expect(stalled.map((b) => b.action_id)).toEqual([ACTION_RESLING_BEAD]);
  });

  it('offers nothing on other events', () => {
    expect(feedEventActions(feedEvent({ type: 'bead_slung' }))).toEqual([]);
    expect(feedEventActions(feedEvent({ type: 'convoy_planned', convoy: null }))).toEqual([]);
  });
});

describe('escapeMrkdwn', () => {
  it('escapes the three control characters', () => {
    expect(escapeMrkdwn('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
  });
});
