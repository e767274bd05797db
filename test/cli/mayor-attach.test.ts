import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Bead, Convoy } from '../../src/town/types.js';
import { ensureBuiltCli, ROOT } from '../helpers/built-dist.js';
import { git, repoWithRemote, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';
import {
  allText,
  lastUserText,
  startAnthropicMessagesDouble,
  text,
  toolUse,
  type AnthropicMessagesDouble,
  type MessagesRequest,
} from '../support/anthropic-messages-double.js';
import { gt } from './run-gt.js';

const GOAL = 'Add a todo list command line tool: add, list and finish items';
const plan = (docsAfter: string[]) => ({
  summary: 'A store module, then the CLI on top of it, and docs.',
  beads: [
    {
      key: 'store',
      title: 'Add the todo store',
      description: 'A JSON file store.',
      acceptance: ['store tests pass'],
      files: ['src/store.js'],
      blockedBy: [],
    },
    {
      key: 'cli',
      title: 'Add the todo CLI',
      description: 'add, list, done.',
      acceptance: ['cli tests pass'],
      files: ['bin/todo'],
      blockedBy: ['store'],
    },
    {
      key: 'docs',
      title: 'Document the CLI',
      description: 'README usage.',
      acceptance: ['README shows usage'],
      files: ['README.md'],
      blockedBy: docsAfter,
    },
  ],
});

let root: string;
let cleanup: () => void;
let clone: string;
let remote: string;
let double: AnthropicMessagesDouble | null = null;
const running: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  await ensureBuiltCli();
}, 120_000);
beforeEach(async () => {
  const t = tempDir('mayor');
  root = t.path;
  cleanup = t.cleanup;
  ({ remote, clone } = repoWithRemote(root, 'todo'));
  writeFileSync(join(clone, 'README.md'), '# todo\nA tiny todo app. Run tests with `npm test`.\n');
  git(clone, ['add', 'README.md']);
  git(clone, ['commit', '-q', '-m', 'readme']);
  git(clone, ['push', '-q', 'origin', 'main']);
  expect((await gt(clone, ['init'])).code).toBe(0);
});
afterEach(async () => {
  for (const p of running.splice(0)) p.kill('SIGKILL');
  await double?.stop();
  double = null;
  cleanup();
});

/** `gt mayor attach` as a real process on a pipe, the way a script or a person's terminal drives it. */
function attach(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const { ANTHROPIC_API_KEY: _k, ANTHROPIC_BASE_URL: _u, GT_ACTOR: _a, ...base } = TEST_GIT_ENV;
  const child = spawn(join(ROOT, 'bin/gt'), ['mayor', 'attach', ...args], {
    cwd,
    env: { ...base, GT_ACTOR: 'ana', ...env },
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    say: (line: string) => child.stdin.write(`${line}\n`),
    async waitFor(pattern: RegExp, ms = 20_000): Promise<void> {
      const start = Date.now();
      while (!pattern.test(out)) {
        if (Date.now() - start > ms) throw new Error(`timed out waiting for ${pattern}; stdout:\n${out}\nstderr:\n${err}`);
        if (child.exitCode !== null) throw new Error(`gt exited (${child.exitCode}) before ${pattern}; stdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    exited,
  };
}

const modelEnv = () => ({ ANTHROPIC_API_KEY: 'sk-ant-test-not-a-secret', ANTHROPIC_BASE_URL: double!.baseURL });

describe('gt mayor attach', () => {
  test('over a pipe: plans a goal, is killed, resumes with its context, revises and slings', async () => {
    const seen: MessagesRequest[] = [];
    const step = (check: (req: MessagesRequest) => void, reply: ReturnType<typeof text>[]) => (req: MessagesRequest) => {
      seen.push(req);
      check(req);
      return reply;
    };
    double = await startAnthropicMessagesDouble([
      step(
        (r) => {
          expect(lastUserText(r)).toContain(GOAL);
          // The deacon's escalation reaches the model, fenced as data.
          expect(lastUserText(r)).toMatch(/<untrusted_mail id="m-[^"]+" from="deacon"[\s\S]*gt-stuck keeps failing/);
          expect(r.tools?.map((t) => t.name)).toEqual(
            expect.arrayContaining(['read_file', 'create_plan', 'revise_plan', 'sling_plan', 'read_mail', 'send_mail']),
          );
        },
        [text('Let me read the README first.'), toolUse('read_file', { path: 'README.md' })],
      ),
      step(
        (r) => expect(lastUserText(r)).toMatch(/<repo_doc path="README.md">\n# todo\nA tiny todo app/),
        [toolUse('create_plan', plan(['store']))],
      ),
      step(
        (r) => expect(lastUserText(r)).toMatch(/Plan r1[\s\S]*└─ store: Add the todo store/),
        [text('Here is the plan. Shall I sling it?')],
      ),
      // --- the first process is killed here; the second attach carries on.
      step(
        (r) => {
          expect(allText(r)).toContain(GOAL);
          expect(allText(r)).toContain('Shall I sling it?');
          expect(lastUserText(r)).toContain('docs should wait for the CLI');
        },
        [toolUse('revise_plan', plan(['cli']))],
      ),
      step((r) => expect(lastUserText(r)).toMatch(/Plan r2/), [text('Revised: docs now come after the CLI. Sling it?')]),
      step((r) => expect(lastUserText(r)).toContain('yes, sling it'), [toolUse('sling_plan', {})]),
      step(
        (r) => expect(lastUserText(r)).toMatch(/convoy cv-\w+ "Add a todo list command line tool[^"]*" active: 3 beads/),
        [text('Slung.')],
      ),
    ]);
    await gt(clone, ['mail', 'send', 'mayor', '--subject', 'gt-stuck keeps failing', '--body', 'three attempts'], { actor: 'deacon' });

    const first = attach(clone, [], modelEnv());
    await first.waitFor(/mail for the mayor \(1 new\):\n.*from deacon: gt-stuck keeps failing/);
    await first.waitFor(/the Mayor is listening/);
    first.say(GOAL);
    await first.waitFor(/mayor> Here is the plan\. Shall I sling it\?/);
    expect(first.out()).toMatch(
      /Plan r1: A store module[\s\S]*└─ store: Add the todo store\n {3}├─ cli: Add the todo CLI\n {3}└─ docs: Document the CLI/,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await gt(clone, ['convoy', 'list', '--json'])).json<{ convoy: Convoy }[]>().map((c) => c.convoy)).toEqual([]);

    // A new process: the conversation comes back from the ledger; lines written ahead are read in turn.
    const second = attach(clone, [], modelEnv());
    second.say('the docs should wait for the CLI, not the store');
    second.say('yes, sling it');
    second.say('y');
    second.say('exit');
    second.child.stdin.end();
    expect(await second.exited).toBe(0);
    expect(second.err()).toBe('');
    expect(second.out()).toMatch(/resumed your conversation with the Mayor \(6 messages/);
    expect(second.out()).toContain('Plan r1: A store module');
    expect(second.out()).not.toContain('mail for the mayor');
    expect(second.out()).toMatch(/Plan r2[\s\S]*└─ store: Add the todo store\n {3}└─ cli: Add the todo CLI\n {6}└─ docs: Document the CLI/);
    expect(second.out()).toContain('sling plan r2 (3 beads)? [y/N]');
    expect(second.out()).toContain('mayor> Slung.');
    expect(double.remaining()).toBe(0);
    expect(double.failures).toEqual([]);
    // The resumed request carried every earlier turn: goal, README read, plan, question.
    expect(seen[3]!.messages.length).toBeGreaterThanOrEqual(7);

    const convoys = (await gt(clone, ['convoy', 'list', '--json'])).json<{ convoy: Convoy }[]>().map((c) => c.convoy);
    expect(convoys).toHaveLength(1);
    expect(convoys[0]).toMatchObject({ status: 'active', planner: 'model', source: { kind: 'local', requestedBy: 'ana' } });
    const beads = (await gt(clone, ['bead', 'list', '--json'])).json<Bead[]>();
    const byKey = new Map(beads.map((b) => [b.key, b]));
    expect(byKey.get('docs')!.blockedBy).toEqual([byKey.get('cli')!.id]);
    expect(byKey.get('store')!.status).toBe('hooked');
    expect(byKey.get('cli')!.status).toBe('open');

    // On another machine: after a sync the same person's attach resumes the same conversation.
    expect((await gt(clone, ['sync'])).code).toBe(0);
    const laptop = join(root, 'laptop');
    git(root, ['clone', '-q', remote, laptop]);
    expect((await gt(laptop, ['sync'])).code).toBe(0);
    const elsewhere = attach(laptop, [], modelEnv());
    elsewhere.say('exit');
    expect(await elsewhere.exited).toBe(0);
    expect(elsewhere.out()).toMatch(/resumed your conversation with the Mayor \(14 messages/);
    expect(elsewhere.out()).toMatch(new RegExp(`Plan r2 \\(slung as ${convoys[0]!.id}\\)`));
    expect(elsewhere.out()).toContain('mayor> Slung.');

    // --new starts afresh; the old conversation stays in the ledger's history.
    const fresh = attach(clone, ['--new'], modelEnv());
    fresh.say('exit');
    expect(await fresh.exited).toBe(0);
    expect(fresh.out()).toContain('the Mayor is listening');
    expect(git(clone, ['rev-list', '--count', 'refs/gastown/conversations/mayor-ana'])).toMatch(/^1\d$/);
  }, 180_000);

  test('a kill between a tool call and its answer: the resumed conversation answers the call, the API accepts it', async () => {
    double = await startAnthropicMessagesDouble([
      () => [toolUse('create_plan', plan([]))],
      () => [text('Sling it?')],
      // The person never confirms: the process is killed while sling_plan waits for "y".
      () => [toolUse('sling_plan', {})],
      (r) => {
        expect(lastUserText(r)).toContain('may or may not have run');
        expect(lastUserText(r)).toContain('go on');
        return [text('The sling was interrupted; nothing was slung. Sling again?')];
      },
    ]);
    const first = attach(clone, [], modelEnv());
    first.say(GOAL);
    await first.waitFor(/mayor> Sling it\?/);
    first.say('sling it');
    await first.waitFor(/sling plan r1 \(3 beads\)\? \[y\/N\]/);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = attach(clone, [], modelEnv());
    second.say('go on');
    second.say('exit');
    second.child.stdin.end();
    expect(await second.exited).toBe(0);
    expect(double.failures).toEqual([]);
    expect(second.out()).toContain('mayor> The sling was interrupted');
    expect((await gt(clone, ['convoy', 'list', '--json'])).json<{ convoy: Convoy }[]>().map((c) => c.convoy)).toEqual([]);
  }, 120_000);

  test('without ANTHROPIC_API_KEY: says how to set one and plans a goal file with the checklist planner', async () => {
    writeFileSync(join(clone, 'goal.md'), '# Todo app\n- [ ] Add the store\n- [ ] Add the CLI (after 1)\n');
    const run = attach(clone);
    run.say('goal.md');
    run.say('y');
    run.child.stdin.end();
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('set ANTHROPIC_API_KEY');
    expect(run.out()).toMatch(/Plan: Todo app\n└─ 1: Add the store\n {3}└─ 2: Add the CLI/);
    expect(run.out()).toMatch(/convoy cv-\w+ active: 2 beads, 1 slung/);
    const convoys = (await gt(clone, ['convoy', 'list', '--json'])).json<{ convoy: Convoy }[]>().map((c) => c.convoy);
    expect(convoys).toMatchObject([{ planner: 'checklist', title: 'Todo app', source: { requestedBy: 'ana' } }]);
  }, 60_000);
});
