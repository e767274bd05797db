import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandAgent, shellQuote } from '../../src/polecat/agents/command-agent.js';
import type { PolecatWorkspace } from '../../src/polecat/workspace.js';
import { recordingContext } from './agent-context.js';
import { gitOk, makeRig, type Rig } from './git-fixture.js';
import { nuxWorkspace, taskFor } from './polecat-workspace.js';

let rig: Rig;
let wt: PolecatWorkspace;
let fakeAgent: string;
beforeEach(async () => {
  rig = await makeRig();
  wt = await nuxWorkspace(rig);
  // A stand-in for `claude -p`, installed where the sandbox shows it (read-only): writes its
  // last argument (the prompt) into the workspace and says which variables it got.
  await mkdir(path.join(rig.root, 'agent-bin'));
  fakeAgent = path.join(rig.root, 'agent-bin', 'fake-agent.sh');
  await writeFile(
    fakeAgent,
    '#!/bin/sh\nfor last; do :; done\nprintf "%s" "$last" > prompt.txt\necho "agent done for $GASTOWN_BEAD/$GASTOWN_POLECAT key=$FAKE_KEY other=$NOT_ALLOWED"\n',
    { mode: 0o755 },
  );
});
afterEach(async () => {
  await rig.cleanup();
});

const trickyPrompt = "Fix the 'quote' bug; don't run $(rm -rf /) or `id` & keep \"this\"\nsecond line";

describe('command agent', () => {
  it('passes the prompt as one quoted argument and exactly the allowed variables, then checkpoints as agent: <title>', async () => {
    process.env.FAKE_KEY = 'k1';
    process.env.NOT_ALLOWED = 'must-not-reach-the-agent';
    const ctx = await recordingContext(rig, wt, { allow: ['FAKE_KEY'], readOnly: [path.dirname(fakeAgent)] });
    const agent = createCommandAgent({ command: `sh ${shellQuote(fakeAgent)} --print` });

    const result = await agent.run(taskFor(wt.path, { prompt: trickyPrompt }), ctx);

    delete process.env.FAKE_KEY;
    delete process.env.NOT_ALLOWED;
    expect(result.ok).toBe(true);
    expect(result.summary).toBe('agent done for gt-abcd/nux key=k1 other=');
    expect(await readFile(path.join(wt.path, 'prompt.txt'), 'utf8')).toBe(trickyPrompt);
    expect(ctx.checkpoints).toEqual(['agent: Add a greeting']);
    expect(await gitOk(wt.path, ['log', '-1', '--format=%s'])).toBe('agent: Add a greeting');
  });

  it('can feed the prompt on stdin', async () => {
    const ctx = await recordingContext(rig, wt);
    const agent = createCommandAgent({ command: 'cat > from-stdin.txt', promptVia: 'stdin' });

    const result = await agent.run(taskFor(wt.path, { prompt: trickyPrompt }), ctx);

    expect(result.ok).toBe(true);
    expect(await readFile(path.join(wt.path, 'from-stdin.txt'), 'utf8')).toBe(trickyPrompt);
  });

  it('reports a non-zero exit as ok:false with the output, keeping partial work', async () => {
    const ctx = await recordingContext(rig, wt);
    const agent = createCommandAgent({ command: 'echo partial > partial.txt; echo "model refused" >&2; exit 7 #' });

    const result = await agent.run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(false);
    expect(result.summary).toContain('exited with 7');
    expect(result.summary).toContain('model refused');
    expect(ctx.checkpoints).toEqual(['agent: Add a greeting']);
  });

  it('kills the whole process group on timeout', async () => {
    const ctx = await recordingContext(rig, wt);
    // The background child would survive (and write late.txt) if only the shell were killed.
    // A trailing `#` turns the appended prompt argument into a shell comment.
    const agent = createCommandAgent({ command: '(sleep 1; echo late > late.txt) & sleep 30 #', timeoutMs: 300 });
    const started = Date.now();

    const result = await agent.run(taskFor(wt.path), ctx);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(result.ok).toBe(false);
    expect(result.summary).toContain('timed out after 300 ms');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(path.join(wt.path, 'late.txt'))).toBe(false);
  });

  it('stops when the runner aborts, without checkpointing', async () => {
    const controller = new AbortController();
    const ctx = await recordingContext(rig, wt, { signal: controller.signal });
    const agent = createCommandAgent({ command: 'sleep 30 #' });
    setTimeout(() => controller.abort(), 200);

    const result = await agent.run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(false);
    expect(result.summary).toContain('was aborted');
    expect(ctx.checkpoints).toEqual([]);
  });
});

describe('command agent usage', () => {
  // What `claude -p --output-format json` prints last (fields as Claude Code 1.x/2.x writes them).
  const claudeResult = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    num_turns: 4,
    result: 'Done.',
    session_id: 'b1e1c3a0-0000-4000-8000-000000000000',
    total_cost_usd: 0.0421,
    usage: {
      input_tokens: 12,
      cache_creation_input_tokens: 3400,
      cache_read_input_tokens: 18000,
      output_tokens: 640,
      service_tier: 'standard',
    },
  });

  it('reads tokens and cost from claude-json output when the rig names that parser, and says unknown (null) without one', async () => {
    const script = path.join(rig.root, 'agent-bin', 'claude-like.sh');
    await writeFile(script, `#!/bin/sh\necho 'working...'\nprintf '%s\\n' '${claudeResult}'\n`, { mode: 0o755 });
    const ctx = await recordingContext(rig, wt, { readOnly: [path.dirname(script)] });
    const task = taskFor(wt.path, { prompt: 'go' });

    const parsed = await createCommandAgent({ command: `sh ${shellQuote(script)}`, usageParser: 'claude-json' }).run(task, ctx);
    expect(parsed.ok).toBe(true);
    expect(parsed.usage).toEqual({ inputTokens: 12, outputTokens: 640, cacheWriteTokens: 3400, cacheReadTokens: 18000, costUsd: 0.0421 });

    const unknown = await createCommandAgent({ command: `sh ${shellQuote(script)}` }).run(task, ctx);
    expect(unknown.usage).toBeNull();
  });

  it('is not started once the runner says to stop (budget spent or emergency stop)', async () => {
    const ctx = {
      ...(await recordingContext(rig, wt, { readOnly: [path.dirname(fakeAgent)] })),
      halted: async () => 'stopped by the runner: budget spent',
    };
    const result = await createCommandAgent({ command: `sh ${shellQuote(fakeAgent)}` }).run(taskFor(wt.path, { prompt: 'go' }), ctx);
    expect(result).toMatchObject({ ok: false, summary: 'stopped by the runner: budget spent' });
    expect(existsSync(path.join(wt.path, 'prompt.txt'))).toBe(false);
  });
});
