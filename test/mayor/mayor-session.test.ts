import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MayorSession } from '../../src/mayor/mayor-session.js';
import { createAnthropicClient } from '../../src/model/anthropic.js';
import { ledgerConversation } from '../../src/rig/mayor-conversation.js';
import { gitRepoReader } from '../../src/rig/repo-reader.js';
import { Rig } from '../../src/rig/rig.js';
import { townService } from '../../src/rig/town-service.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';
import {
  lastUserText,
  startAnthropicMessagesDouble,
  text,
  toolUse,
  type AnthropicMessagesDouble,
  type MessagesRequest,
} from '../support/anthropic-messages-double.js';

let dir: string;
let cleanup: () => void;
let rig: Rig;
let double: AnthropicMessagesDouble;
beforeEach(async () => {
  const t = tempDir('mayor-session');
  dir = t.path;
  cleanup = t.cleanup;
  initRepo(dir);
  writeFileSync(join(dir, 'README.md'), '# app\n');
  git(dir, ['add', 'README.md']);
  git(dir, ['commit', '-q', '-m', 'readme']);
  writeFileSync(join(dir, 'notes.txt'), 'not committed\n');
  Rig.init(dir);
  rig = await Rig.open({ repoDir: dir, actor: 'ana' });
});
afterEach(async () => {
  rig.close();
  await double.stop();
  cleanup();
});

const good = {
  summary: 'Two steps.',
  beads: [
    { key: 'a', title: 'First', description: 'd', acceptance: [], files: [], blockedBy: [] },
    { key: 'b', title: 'Second', description: 'd', acceptance: [], files: [], blockedBy: ['a'] },
  ],
};

async function session(answers: boolean[], said: string[]) {
  return MayorSession.resume({
    model: { client: createAnthropicClient({ apiKey: 'sk-test', baseURL: double.baseURL }), model: 'claude-sonnet-4-6' },
    town: townService(rig),
    repo: gitRepoReader(dir),
    store: ledgerConversation(rig, 'ana'),
    person: 'ana',
    maxBeads: 12,
    requireApproval: false,
    confirm: async () => answers.shift() ?? false,
    say: (kind, t) => said.push(`${kind}: ${t}`),
    now: () => new Date(),
  });
}

describe('MayorSession', () => {
  test('the model cannot sling without the person: a "no" on the terminal slings nothing', async () => {
    const results: string[] = [];
    const grab = (r: MessagesRequest) => results.push(lastUserText(r));
    double = await startAnthropicMessagesDouble([
      () => [toolUse('create_plan', good)],
      (r) => (grab(r), [toolUse('sling_plan', {})]),
      (r) => (grab(r), [text('Understood.')]),
    ]);
    const s = await session([false], []);
    await s.tell('plan two steps');
    expect(results[1]).toContain('declined on the terminal: nothing was slung');
    expect(await rig.ledger.list('convoys')).toEqual([]);
    expect(double.failures).toEqual([]);
  });

  test('sling_plan called twice for one revision records one convoy', async () => {
    double = await startAnthropicMessagesDouble([
      () => [toolUse('create_plan', good)],
      () => [toolUse('sling_plan', {})],
      () => [toolUse('sling_plan', {})],
      (r) => {
        expect(lastUserText(r)).toMatch(/convoy cv-\w+/);
        return [text('Done.')];
      },
    ]);
    // Asked once: the second call finds the revision slung already.
    const s = await session([true], []);
    await s.tell('plan and sling');
    expect(await rig.ledger.list('convoys')).toHaveLength(1);
    expect(double.failures).toEqual([]);
  });

  test('bad plans and paths come back to the model as errors; nothing is recorded', async () => {
    const errors: string[] = [];
    const grab = (r: MessagesRequest) => errors.push(lastUserText(r));
    const cyclic = { ...good, beads: [good.beads[0]!, { ...good.beads[1]!, blockedBy: ['b'] }] };
    double = await startAnthropicMessagesDouble([
      () => [toolUse('create_plan', cyclic)],
      (r) => (grab(r), [toolUse('read_file', { path: '../../etc/passwd' })]),
      (r) => (grab(r), [toolUse('read_file', { path: 'notes.txt' })]),
      (r) => (grab(r), [toolUse('sling_plan', {})]),
      (r) => (grab(r), [text('I will fix the plan.')]),
    ]);
    const said: string[] = [];
    const s = await session([true], said);
    await s.tell('plan it');
    expect(errors[0]).toMatch(/The plan was rejected[\s\S]*b/);
    expect(errors[1]).toMatch(/not a repository path/);
    expect(errors[2]).toMatch(/no file notes.txt in HEAD/);
    expect(errors[3]).toMatch(/no plan to sling/);
    expect(s.currentPlan).toBeNull();
    expect(said).toEqual(['mayor: I will fix the plan.']);
    expect(double.requests[1]!.messages.at(-1)!.content).toMatchObject([{ type: 'tool_result', is_error: true }]);
    expect(double.failures).toEqual([]);
  });
});
