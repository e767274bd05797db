import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinAgent } from '../../src/polecat/agents/builtin-agent.js';
import type { PolecatWorkspace } from '../../src/polecat/workspace.js';
import { recordingContext } from './agent-context.js';
import { gitOk, makeRig, type Rig } from './git-fixture.js';
import { nuxWorkspace, taskFor } from './polecat-workspace.js';

const API = 'https://api.anthropic.test';
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/anthropic-agent/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

interface SentBody {
  model: string;
  tools: { name: string }[];
  messages: {
    role: string;
    content: string | { type: string; text?: string; tool_use_id?: string; content?: string; is_error?: boolean }[];
  }[];
}

/** Answers successive POST /v1/messages with the named fixtures, recording each request body. */
function scriptModel(...names: string[]): { scope: nock.Scope; bodies: SentBody[] } {
  const bodies: SentBody[] = [];
  let scope = nock(API);
  for (const name of names) {
    scope = scope
      .post('/v1/messages', (body: SentBody) => {
        bodies.push(body);
        return true;
      })
      .reply(200, fixture(name));
  }
  return { scope, bodies };
}

function lastUserContent(body: SentBody) {
  const last = body.messages[body.messages.length - 1]!;
  expect(last.role).toBe('user');
  return Array.isArray(last.content) ? last.content : [];
}

const client = new Anthropic({ apiKey: 'test-key', baseURL: API, maxRetries: 0 });
const agentWith = (over: Partial<Parameters<typeof createBuiltinAgent>[0]> = {}) =>
  createBuiltinAgent({ client, model: 'claude-sonnet-5-5', maxTurns: 10, tokenBudget: 100_000, ...over });

let rig: Rig;
let wt: PolecatWorkspace;
beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});
beforeEach(async () => {
  rig = await makeRig();
  wt = await nuxWorkspace(rig);
});
afterEach(async () => {
  nock.cleanAll();
  await rig.cleanup();
});

describe('built-in agent', () => {
  it('runs write_file, edit_file, run_command and finish against the real workspace', async () => {
    const { scope, bodies } = scriptModel('01-write-file.json', '02-edit-file.json', '03-run-command.json', '04-finish.json');
    const ctx = await recordingContext(rig, wt);
    const base = await gitOk(wt.path, ['rev-parse', 'HEAD']);

    const result = await agentWith().run(taskFor(wt.path, { prompt: 'Add src/greeting.txt saying hello, town.' }), ctx);

    expect(result.ok).toBe(true);
    expect(result.summary).toBe("Added src/greeting.txt saying 'hello, town' and checked it with grep.");
    expect(result.usage).toMatchObject({ inputTokens: 7052, outputTokens: 299, cacheReadTokens: 3072, cacheWriteTokens: 1024 });
    // Unknown model ids are priced like Sonnet ($3/$15 per Mtok, cache write 1.25x, read 0.1x), rounded per call to micro-dollars.
    expect(result.usage!.costUsd).toBeCloseTo(0.030402, 6);
    expect(scope.isDone()).toBe(true);
    expect(await readFile(path.join(wt.path, 'src/greeting.txt'), 'utf8')).toBe('hello, town\n');
    expect(await readFile(path.join(wt.path, 'check.txt'), 'utf8')).toBe('1\n');
    // Turns 1 and 2 wrote files; turn 3's command created check.txt; turn 4 only finished.
    expect(ctx.checkpoints).toEqual(['turn 1: Add a greeting', 'turn 2: Add a greeting', 'turn 3: Add a greeting']);
    expect((await gitOk(wt.path, ['log', '--format=%s', `${base}..HEAD`])).split('\n')).toHaveLength(3);

    expect(bodies[0]!.model).toBe('claude-sonnet-5-5');
    expect(bodies[0]!.tools.map((t) => t.name)).toEqual([
      'list_files',
      'read_file',
      'search',
      'write_file',
      'edit_file',
      'run_command',
      'finish',
    ]);
    expect(bodies[0]!.messages).toEqual([{ role: 'user', content: 'Add src/greeting.txt saying hello, town.' }]);
    const commandResult = lastUserContent(bodies[3]!).find((b) => b.type === 'tool_result');
    expect(commandResult).toMatchObject({ tool_use_id: 'toolu_01CxP5ZaB8l3nWi4RgHu9Sx', is_error: false });
    expect(commandResult!.content).toBe('exit code 0\n1\n');
  });

  it('refuses paths that escape the workspace as tool errors and carries on', async () => {
    const outside = path.join(rig.root, 'outside');
    await mkdir(outside);
    await symlink(outside, path.join(wt.path, 'outside-link'));
    const { scope, bodies } = scriptModel('escape-attempts.json', 'finish-after-escape.json');
    const ctx = await recordingContext(rig, wt, { commit: false });

    const result = await agentWith().run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(true);
    expect(scope.isDone()).toBe(true);
    const results = lastUserContent(bodies[1]!).filter((b) => b.type === 'tool_result');
    expect(results.map((r) => r.is_error)).toEqual([true, true, true, true]);
    expect(results[0]!.content).toContain('outside the workspace');
    expect(results[1]!.content).toContain('absolute paths are not allowed');
    expect(results[2]!.content).toContain('through a symlink');
    expect(results[3]!.content).toContain('occurs 0 times');
    expect(existsSync(path.join(rig.workspaceRoot, 'escaped.txt'))).toBe(false);
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    expect(ctx.checkpoints).toEqual([]);
  });

  it('stops with ok:false after maxTurns without finish', async () => {
    const { scope, bodies } = scriptModel('list-files.json', 'list-files.json');
    const ctx = await recordingContext(rig, wt);

    const result = await agentWith({ maxTurns: 2 }).run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(false);
    expect(result.summary).toBe('stopped after maxTurns (2) without the model calling finish');
    expect(bodies).toHaveLength(2);
    expect(scope.isDone()).toBe(true);
    expect(lastUserContent(bodies[1]!)[0]!.content).toContain('README.md');
  });

  it('stops with ok:false when the token budget is exceeded', async () => {
    const { bodies } = scriptModel('list-files.json', 'list-files.json');
    const ctx = await recordingContext(rig, wt);

    const result = await agentWith({ tokenBudget: 1000 }).run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(false);
    expect(result.summary).toBe('token budget exceeded: 1400 tokens used of 1000 after 2 turn(s) without finishing');
    expect(result.usage).toMatchObject({ inputTokens: 1200, outputTokens: 200 });
    expect(bodies).toHaveLength(2);
  });

  it('adds nudges and mail from the inbox to the next user turn', async () => {
    const { scope, bodies } = scriptModel('read-readme.json', '04-finish.json');
    const ctx = await recordingContext(rig, wt, {
      inbox: [
        [
          { kind: 'nudge', from: 'mayor', subject: '', body: 'keep the README short' },
          { kind: 'mail', from: 'witness', subject: 'Heads up', body: 'main moved' },
        ],
      ],
    });

    const result = await agentWith().run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(true);
    expect(scope.isDone()).toBe(true);
    expect(JSON.stringify(bodies[0])).not.toContain('keep the README short');
    const next = lastUserContent(bodies[1]!);
    expect(next[0]).toMatchObject({
      type: 'tool_result',
      tool_use_id: 'toolu_01KfX3HiJ6t1vEq2ZoPc7Af',
      content: '# rig\n',
      is_error: false,
    });
    expect(next[1]).toEqual({ type: 'text', text: '[nudge from mayor] keep the README short\n[mail from witness] Heads up: main moved' });
    expect(ctx.inboxReads).toBe(1);
  });

  it('reminds the model to use the tools when it answers in prose only', async () => {
    const { scope, bodies } = scriptModel('prose-only.json', '04-finish.json');
    const ctx = await recordingContext(rig, wt);

    const result = await agentWith().run(taskFor(wt.path), ctx);

    expect(result.ok).toBe(true);
    expect(scope.isDone()).toBe(true);
    expect(lastUserContent(bodies[1]!)).toEqual([
      { type: 'text', text: 'Continue with the tools, and call finish when the bead is done.' },
    ]);
  });

  it('does not call the model once the runner has aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { scope } = scriptModel('04-finish.json');
    const ctx = await recordingContext(rig, wt, { signal: controller.signal });

    const result = await agentWith().run(taskFor(wt.path), ctx);

    expect(result).toMatchObject({ ok: false, summary: 'aborted before turn 1' });
    expect(scope.isDone()).toBe(false);
  });
});
