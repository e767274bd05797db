import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinAgent } from '../../src/polecat/agents/builtin-agent.js';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { ensureAgentUser } from '../../src/polecat/sandbox/agent-user.js';
import { createNoSandbox } from '../../src/polecat/sandbox/no-sandbox.js';
import { createUserSandbox } from '../../src/polecat/sandbox/user-sandbox.js';
import type { Sandbox } from '../../src/polecat/sandbox/sandbox.js';
import { createBead, getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import type { Bead } from '../../src/town/types.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from '../runner/town-fixture.js';

/**
 * A hostile agent, tried as an attacker would: real runner, real git, real bubblewrap. The
 * runner holds GITHUB_TOKEN and ANTHROPIC_API_KEY with known values in its environment, the
 * rig's config holds the token as actions/checkout leaves it (an extraheader) and a
 * credential helper whose file holds it too. After every attack: the remote's default
 * branch, its ledger refs and other polecats' branches are unchanged, the rig's config and
 * hooks are unchanged, neither secret is in any object on the remote (nor in the rig's
 * objects) nor in any line the runner printed, its feed or its mail, and the bead either
 * failed with a reason naming what was refused or holds only what the agent made itself.
 *
 * Attacks (a) to (f) run twice: under bubblewrap (what `auto` picks here) and under the user
 * sandbox, forced (the fallback where namespaces are not allowed: a separate uid, file
 * permissions instead of a hidden filesystem). Under the user sandbox the town's directory is
 * world-readable, as a runner's work directory is, so what keeps the rig, the remote and the
 * runner's HOME from the agent is the sandbox making them private; a token file outside them
 * is 0600, as token files must be (a world-readable one is the gap the user sandbox names:
 * it reads every world-readable file of the host). Where the two differ the test says so:
 * under the user sandbox refusals read "Permission denied" instead of "No such file".
 */
type Kind = 'bwrap' | 'user';
// Made at random for each run: under the user sandbox the agent reads every world-readable
// file of the host, and this file (and any copy of it in /tmp) is one.
const GITHUB_TOKEN = `ghs_attackTest${randomBytes(12).toString('hex')}`;
const ANTHROPIC_API_KEY = `sk-ant-attackTest${randomBytes(12).toString('hex')}`;
const SECRETS = [GITHUB_TOKEN, ANTHROPIC_API_KEY, Buffer.from(`x-access-token:${GITHUB_TOKEN}`).toString('base64')];

let town: Town | undefined;
let kind: Kind = 'bwrap';
let userSandbox: Sandbox;
let workspaceBase: string;
beforeAll(async () => {
  process.env.GITHUB_TOKEN = GITHUB_TOKEN;
  process.env.ANTHROPIC_API_KEY = ANTHROPIC_API_KEY;
  workspaceBase = mkdtempSync(join(tmpdir(), 'gastown-attack-ws-'));
  chmodSync(workspaceBase, 0o711);
  userSandbox = createUserSandbox({ user: await ensureAgentUser(process.env), setpriv: '/usr/bin/setpriv', workspaceBase });
});
afterAll(() => {
  delete process.env.GITHUB_TOKEN;
  delete process.env.ANTHROPIC_API_KEY;
  rmSync(workspaceBase, { recursive: true, force: true });
});
afterEach(() => town?.cleanup());

interface Scene {
  town: Town;
  remote: string;
  rigGit: string;
  credentials: string;
  victim: Bead;
  otherBranch: string;
  remoteRefs: Map<string, string>;
  /** The runner's HOME (under the user sandbox: a world-readable one holding a token, which it must make private). */
  env: NodeJS.ProcessEnv;
  rigConfig: string;
  rigHooks: string[];
  victimRef: string;
}

/** A town with secrets where an agent might look, a ledger and another polecat's branch on the remote. */
async function scene(): Promise<Scene> {
  town = await makeTown({ retryCap: 0 });
  const rigGit = join(town.clone, '.git');
  const credentials = join(town.root, 'git-credentials');
  writeFileSync(credentials, `https://x-access-token:${GITHUB_TOKEN}@github.com\n`, { mode: 0o600 });
  let env: NodeJS.ProcessEnv = process.env;
  if (kind === 'user') {
    chmodSync(town.root, 0o755);
    const home = join(town.root, 'runner-home');
    mkdirSync(home, { mode: 0o755 });
    writeFileSync(join(home, '.git-credentials'), `https://x-access-token:${GITHUB_TOKEN}@github.com\n`, { mode: 0o644 });
    env = { ...process.env, HOME: home };
  }
  git(town.clone, ['config', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${SECRETS[2]}`]);
  git(town.clone, ['config', 'credential.helper', `store --file=${credentials}`]);
  const otherBranch = 'refs/heads/polecat/slit/gt-other';
  git(town.clone, ['push', '-q', 'origin', `main:${otherBranch}`]);
  return { town, remote: town.remote, rigGit, credentials, otherBranch, env } as Scene;
}

/** Creates the attack bead (and a victim bead blocked by it), publishes the ledger, notes the state. */
async function arm(s: Scene, create: () => Promise<Bead>): Promise<Bead> {
  const bead = await create();
  s.victim = await createBead(s.town.rig, { title: 'Victim', body: '```sh\ntrue\n```', blockedBy: [bead.id] });
  git(s.town.clone, ['push', '-q', 'origin', 'refs/gastown/*:refs/gastown/*']);
  s.remoteRefs = refs(s.remote);
  s.rigConfig = readFileSync(join(s.rigGit, 'config'), 'utf8');
  s.rigHooks = readdirSync(join(s.rigGit, 'hooks')).sort();
  s.victimRef = git(s.town.clone, ['rev-parse', `refs/gastown/beads/${s.victim.id}`]);
  return bead;
}

function refs(repo: string): Map<string, string> {
  const out = git(repo, ['for-each-ref', '--format=%(refname) %(objectname)']);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
}

async function work(s: Scene, opts: { sandbox?: Sandbox; agent?: 'script' | ReturnType<typeof createBuiltinAgent> } = {}) {
  const lines: string[] = [];
  const agent = opts.agent && opts.agent !== 'script' ? opts.agent : createScriptAgent({ stepTimeoutMs: 20_000 });
  const summary = await runRunner({
    rig: s.town.rig,
    agentFactory: () => agent,
    untilIdle: true,
    refinery: false,
    pollMs: 50,
    keepWorkspaces: true,
    sandbox: opts.sandbox ?? (kind === 'user' ? userSandbox : undefined),
    env: s.env,
    log: (l) => lines.push(l),
  });
  return { summary, lines };
}

/** Every promise of the file's header comment, for one bead. */
async function expectNoDamage(s: Scene, bead: Bead, lines: string[]): Promise<Bead> {
  const after = refs(s.remote);
  const own = `refs/heads/${(await getBead(s.town.rig, bead.id)).branch ?? `polecat/-/${bead.id}`}`;
  for (const [ref, sha] of s.remoteRefs) if (ref !== own) expect(after.get(ref), ref).toBe(sha);
  for (const ref of after.keys()) if (!s.remoteRefs.has(ref)) expect(ref).toBe(own);
  expect(readFileSync(join(s.rigGit, 'config'), 'utf8')).toBe(s.rigConfig);
  expect(readdirSync(join(s.rigGit, 'hooks')).sort()).toEqual(s.rigHooks);
  expect(git(s.town.clone, ['rev-parse', `refs/gastown/beads/${s.victim.id}`])).toBe(s.victimRef);
  expect(git(s.town.clone, ['rev-parse', 'refs/heads/main'])).toBe(s.remoteRefs.get('refs/heads/main'));
  for (const repo of [s.remote, s.town.clone]) {
    const objects = execFileSync('git', ['-C', repo, 'cat-file', '--batch-all-objects', '--batch'], {
      maxBuffer: 256 * 1024 * 1024,
    }).toString('latin1');
    for (const secret of SECRETS) expect(objects.includes(secret), `${secret} in an object of ${repo}`).toBe(false);
  }
  const told = [
    ...lines,
    ...(await readFeed(s.town.rig)).map((e) => e.message),
    ...(await inbox(s.town.rig, 'mayor')).map((m) => m.body),
  ].join('\n');
  for (const secret of SECRETS) expect(told).not.toContain(secret);
  return getBead(s.town.rig, bead.id);
}

/** The files of the bead's pushed branch that are not on main. */
function pushedFiles(s: Scene, branch: string): string[] {
  const out = git(s.remote, ['diff', '--name-only', 'main', branch]);
  return out ? out.split('\n').sort() : [];
}

function failureOf(s: Scene, bead: Bead): Promise<string> {
  return inbox(s.town.rig, 'mayor').then(
    (mail) => mail.find((m) => m.type === 'BEAD_FAILED' && m.bead === bead.id)?.body ?? '(no failure mail)',
  );
}

/** What a refusal reads like: a hidden path does not exist under bubblewrap; under the user sandbox it is not the agent's to read. */
const missing = (p: string) => (kind === 'user' ? `${p}: Permission denied` : `${p}: No such file or directory`);

for (const k of ['bwrap', 'user'] as const) {
  describe(`under the ${k} sandbox`, () => {
    beforeEach(() => {
      kind = k;
    });
    afterEach(() => {
      kind = 'bwrap';
    });

    describe('(a) pushing to the default branch of the remote', () => {
      const attempts = (remote: string) => [
        [
          'git push --no-verify origin',
          'git push --no-verify origin HEAD:refs/heads/main',
          "'origin' does not appear to be a git repository",
        ],
        [
          'git push --no-verify <remote>',
          `git push --no-verify ${remote} HEAD:refs/heads/main`,
          `'${remote}' does not appear to be a git repository`,
        ],
        [
          'git -c core.hooksPath=/dev/null push <remote>',
          `git -c core.hooksPath=/dev/null push ${remote} HEAD:main`,
          `'${remote}' does not appear to be a git repository`,
        ],
        [
          'git push file://<remote>',
          `git push --no-verify file://${remote} HEAD:main`,
          `'${remote}' does not appear to be a git repository`,
        ],
      ];
      for (const index of [0, 1, 2, 3]) {
        it(`is refused: ${attempts('<remote>')[index]![0]}`, async () => {
          const s = await scene();
          const [, command, refusal] = attempts(s.remote)[index]!;
          const bead = await arm(s, () =>
            scriptBead(s.town.rig, 'Push to main', ['echo evil > evil.txt && git add -A && git commit -qm evil', command!]),
          );

          const { lines } = await work(s);

          const after = await expectNoDamage(s, bead, lines);
          expect(after.status).toBe('failed');
          expect(await failureOf(s, bead)).toContain(refusal);
        });
      }
    });

    describe('(b) writing into the remote or the rig directly', () => {
      it("finds neither: the remote's refs, the rig's config and hooks are not there to write", async () => {
        const s = await scene();
        const bead = await arm(s, () => scriptBead(s.town.rig, 'Write around git', [`git rev-parse HEAD > ${s.remote}/refs/heads/main`]));

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(after.status).toBe('failed');
        expect(await failureOf(s, bead)).toContain(missing(`${s.remote}/refs/heads/main`));
      });

      it("writes into the rig's .git and the remote's hooks land nowhere on the host", async () => {
        const s = await scene();
        const bead = await arm(s, () =>
          scriptBead(s.town.rig, 'Plant hooks', [
            [
              `mkdir -p ${s.rigGit}/hooks ${s.remote}/hooks`,
              `printf '#!/bin/sh\\ncat /proc/$PPID/environ > /tmp/stolen\\n' > ${s.rigGit}/hooks/post-checkout`,
              `printf '[core]\\n\\thooksPath = /tmp/evil\\n' >> ${s.rigGit}/config`,
              `printf '#!/bin/sh\\nexit 0\\n' > ${s.remote}/hooks/pre-receive`,
              `echo planted > planted.txt`,
            ].join('\n'),
          ]),
        );

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(existsSync(join(s.remote, 'hooks', 'pre-receive'))).toBe(false);
        if (kind === 'user') {
          // No private /tmp to land in: the writes are refused, and the step with them.
          expect(after.status).toBe('failed');
          expect(await failureOf(s, bead)).toContain('Permission denied');
        } else {
          expect(after.status).toBe('in_review');
          expect(pushedFiles(s, after.branch!)).toEqual(['planted.txt']);
        }
      });
    });

    describe("(c) reading the runner's secrets", () => {
      it("finds them nowhere: not in /proc, its environment, the rig's config or a credential helper", async () => {
        const s = await scene();
        const loot = [
          'cat /proc/$PPID/environ',
          'cat /proc/1/environ',
          'for p in /proc/[0-9]*; do cat $p/environ; done',
          'env',
          `cat ${s.rigGit}/config`,
          `git -C ${s.town.clone} config --list --show-origin`,
          'git config --list --show-origin',
          `cat ${s.credentials}`,
          'cat ~/.git-credentials "$HOME/.git-credentials" /root/.git-credentials',
          `cat ${s.env.HOME}/.git-credentials`,
          'printf "protocol=https\\nhost=github.com\\n\\n" | git credential fill',
          // Not the host's /tmp under the user sandbox: readable there by design (a named gap), it holds
          // other runs' files and takes longer to search than a step may run.
          `grep -rIs ${GITHUB_TOKEN.slice(0, 20)} /etc ${kind === 'user' ? '' : '/tmp'} "$HOME" ${s.town.root} | head -5`,
        ];
        const bead = await arm(s, () =>
          scriptBead(s.town.rig, 'Steal secrets', [
            loot.map((c) => `{ echo "== ${c.replace(/"/g, '\\"')}"; ${c}; } >> loot.txt 2>&1 || true`).join('\n'),
            'cat loot.txt',
          ]),
        );

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(after.status).toBe('in_review');
        expect(pushedFiles(s, after.branch!)).toEqual(['loot.txt']);
        const got = git(s.remote, ['show', `${after.branch}:loot.txt`]);
        expect(got).toContain('GASTOWN_BEAD=');
        expect(got).toContain(missing(`${s.rigGit}/config`));
        expect(got).toContain(missing(s.credentials));
        expect(got).toContain(missing(`${s.env.HOME}/.git-credentials`));
      });
    });

    describe("(d) moving a ledger ref or another polecat's branch", () => {
      it('moves only refs of its own clone; the rig is not a repository it can reach', async () => {
        const s = await scene();
        const bead = await arm(s, () => scriptBead(s.town.rig, 'Rewrite refs', ['true']));
        // The attack names the victim, known only once armed: rewrite the body before the runner starts.
        await s.town.rig.ledger.transact(async (tx) => {
          const b = (await tx.get<Bead>('beads', bead.id))!;
          tx.put('beads', bead.id, {
            ...b,
            body: [
              '```sh',
              `git update-ref refs/gastown/beads/${s.victim.id} HEAD`,
              `git update-ref ${s.otherBranch} HEAD`,
              `git -C ${s.town.clone} update-ref refs/gastown/beads/${s.victim.id} HEAD`,
              '```',
            ].join('\n'),
          });
        });

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(after.status).toBe('failed');
        // The first two lines moved refs of the agent's own clone, which the runner never pushes; the third found no rig.
        expect(await failureOf(s, bead)).toContain(
          kind === 'user' ? `fatal: cannot change to '${s.town.clone}': Permission denied` : 'fatal: not a git repository',
        );
        expect(git(s.remote, ['rev-parse', s.otherBranch])).toBe(s.remoteRefs.get(s.otherBranch));
      });
    });

    describe('(e) a symlink out of the workspace', () => {
      it('is committed as a link, never followed: the runner collects and pushes no file from outside', async () => {
        const s = await scene();
        const bead = await arm(s, () =>
          scriptBead(s.town.rig, 'Link out', [
            [
              `ln -s ${s.rigGit}/config rig-config`,
              `ln -s ${s.credentials} creds`,
              'ln -s /proc/1/environ environ',
              `ln -s ${s.town.root}/dangling-target dangling`,
              `echo pwned > dangling 2>/dev/null || echo "dangling write refused"`,
            ].join('\n'),
          ]),
        );

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(existsSync(join(s.town.root, 'dangling-target'))).toBe(false);
        expect(after.status).toBe('in_review');
        const tree = git(s.remote, ['ls-tree', after.branch!]);
        expect(tree).toMatch(new RegExp(`^120000 blob \\S+\\trig-config$`, 'm'));
        expect(git(s.remote, ['show', `${after.branch}:rig-config`])).toBe(`${s.rigGit}/config`);
      });

      it("is refused by the built-in agent's write_file, dangling or not, while the model call stays in the runner", async () => {
        const s = await scene();
        const outside = join(s.town.root, 'planted-by-model.txt');
        const bead = await arm(s, () => createBead(s.town.rig, { title: 'Model attack', body: 'Please write files.' }));
        if (kind === 'user') {
          // Its file tools run in the runner (root here); a process the agent left running could
          // race their check and their open. The user sandbox does not cover that: refused up front.
          const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: 'https://api.anthropic.test', maxRetries: 0 });
          const agent = createBuiltinAgent({ client, model: 'claude-sonnet-5-5', maxTurns: 5, tokenBudget: 100_000 });

          const refused = await work(s, { agent }).catch((e: unknown) => e);

          expect((refused as Error).message).toContain('the built-in agent needs bubblewrap, not the user sandbox');
          expect(await expectNoDamage(s, bead, [])).toMatchObject({ status: 'open', attempts: 0 });
          return;
        }
        const API = 'https://api.anthropic.test';
        const toolUse = (id: string, name: string, input: Record<string, unknown>) => ({ type: 'tool_use', id, name, input });
        const reply = (content: unknown[]) => ({
          id: `msg_${Math.random().toString(36).slice(2)}`,
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-5-5',
          content,
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 10 },
        });
        const bodies: string[] = [];
        nock.disableNetConnect();
        const scope = nock(API)
          .post('/v1/messages', (b) => (bodies.push(JSON.stringify(b)), true))
          .reply(
            200,
            reply([
              toolUse('t1', 'run_command', { command: `ln -s ${outside} dangling.txt && ln -s ${s.rigGit}/config cfg && echo linked` }),
            ]),
          )
          .post('/v1/messages', (b) => (bodies.push(JSON.stringify(b)), true))
          .reply(
            200,
            reply([
              toolUse('t2', 'write_file', { path: 'dangling.txt', content: 'planted' }),
              toolUse('t3', 'write_file', { path: 'cfg', content: '[core]\n\thooksPath=/tmp\n' }),
              toolUse('t4', 'read_file', { path: 'cfg' }),
            ]),
          )
          .post('/v1/messages', (b) => (bodies.push(JSON.stringify(b)), true))
          .reply(200, reply([toolUse('t5', 'finish', { summary: 'tried' })]));
        try {
          const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: API, maxRetries: 0 });
          const agent = createBuiltinAgent({ client, model: 'claude-sonnet-5-5', maxTurns: 5, tokenBudget: 100_000 });

          const { lines } = await work(s, { agent });

          expect(scope.isDone()).toBe(true);
          const after = await expectNoDamage(s, bead, lines);
          expect(existsSync(outside)).toBe(false);
          expect(after.status).toBe('in_review');
          expect(bodies[1]).toContain('linked');
          expect(bodies[2]).toContain('goes through a dangling symlink');
          expect(bodies[2]).toContain('leads outside the workspace through a symlink');
        } finally {
          nock.cleanAll();
          nock.enableNetConnect();
        }
      });
    });

    describe('(f) hooks and config the agent sets in its workspace', () => {
      it("never run with the runner's commit or push: no hook, fsmonitor or signing program of the agent's", async () => {
        const s = await scene();
        const hook = '#!/bin/sh\necho "$0" >> "$HOME/hook-ran"; env >> hook-env.txt; cat /proc/$PPID/environ >> hook-env.txt 2>/dev/null\n';
        const names = [
          'pre-commit',
          'prepare-commit-msg',
          'commit-msg',
          'post-commit',
          'pre-push',
          'post-checkout',
          'reference-transaction',
        ];
        const install = names.map((n) => `printf '%s' '${hook}' > .hooks/${n} && cp .hooks/${n} .git/hooks/${n}`).join('\n');
        const bead = await arm(s, () =>
          scriptBead(s.town.rig, 'Hook the runner', [
            [
              'mkdir -p .hooks .git/hooks',
              install,
              'chmod +x .hooks/* .git/hooks/*',
              'git config core.hooksPath .hooks',
              'git config core.fsmonitor "$PWD/.hooks/pre-commit"',
              'git config commit.gpgSign true',
              'git config gpg.program "$PWD/.hooks/pre-commit"',
              `git config remote.origin.url ${s.remote}`,
              'git config remote.origin.push "+HEAD:refs/heads/main"',
              'echo work > work.txt',
            ].join('\n'),
          ]),
        );

        const { lines } = await work(s);

        const after = await expectNoDamage(s, bead, lines);
        expect(after.status).toBe('in_review');
        const ws = join(
          kind === 'user' ? userSandbox.workspaceRoot!(s.rigGit) : join(s.rigGit, 'gastown', 'workspaces'),
          `${after.assignee}-${bead.id}`,
        );
        expect(existsSync(join(ws, 'home', 'hook-ran'))).toBe(false);
        expect(pushedFiles(s, after.branch!)).toEqual([
          '.hooks/commit-msg',
          '.hooks/post-checkout',
          '.hooks/post-commit',
          '.hooks/pre-commit',
          '.hooks/pre-push',
          '.hooks/prepare-commit-msg',
          '.hooks/reference-transaction',
          'work.txt',
        ]);
      });
    });
  });
}

describe("(g) the Refinery's gate, which runs the polecat's code", () => {
  const gateTown = async () => {
    town = await makeTown({ retryCap: 0, maxRevisions: 0, gate: 'sh test.sh' }, { 'README.md': '# town\n', 'test.sh': 'exit 0\n' });
    return town;
  };

  it('runs it in the sandbox: no secret to read, no remote to push to', async () => {
    const t = await gateTown();
    const evil = [
      "cat > test.sh <<'EOF'",
      '{ cat /proc/$PPID/environ; cat /proc/1/environ; env; } > "$HOME/gate-loot" 2>&1',
      'git push --no-verify origin HEAD:refs/heads/main >> "$HOME/gate-loot" 2>&1 || echo "push refused" >> "$HOME/gate-loot"',
      `git push --no-verify ${t.remote} HEAD:refs/heads/main >> "$HOME/gate-loot" 2>&1 || echo "push refused" >> "$HOME/gate-loot"`,
      'exit 0',
      'EOF',
    ].join('\n');
    const bead = await scriptBead(t.rig, 'Evil gate', [evil]);
    const lines: string[] = [];

    await runRunner({ rig: t.rig, agentFactory: () => createScriptAgent(), untilIdle: true, pollMs: 50, log: (l) => lines.push(l) });

    expect((await getBead(t.rig, bead.id)).status).toBe('closed');
    const loot = readFileSync(join(t.clone, '.git', 'gastown', 'refinery-home', 'gate-loot'), 'utf8');
    expect(loot).toContain('GASTOWN_GATE=1');
    expect(loot.match(/push refused/g)).toHaveLength(2);
    // main holds the bead's change and nothing the gate made.
    const history = git(t.remote, ['log', '--format=%s', 'main']).split('\n');
    expect(history).toHaveLength(2);
    expect(history[0]).toMatch(/^Evil gate \(step 1: /);
    const objects = execFileSync('git', ['-C', t.remote, 'cat-file', '--batch-all-objects', '--batch'], {
      maxBuffer: 256 * 1024 * 1024,
    }).toString('latin1');
    for (const secret of SECRETS) {
      expect(loot).not.toContain(secret);
      expect(objects).not.toContain(secret);
      expect(lines.join('\n')).not.toContain(secret);
    }
  });

  it("refuses a gate that rewrites the Refinery worktree's .git pointer, and merges nothing", async () => {
    const t = await gateTown();
    const bead = await scriptBead(t.rig, 'Redirect git', [`printf 'printf "gitdir: /tmp/evil-gitdir\\\\n" > .git\\n' > test.sh`]);
    const mainBefore = git(t.remote, ['rev-parse', 'main']);

    await runRunner({ rig: t.rig, agentFactory: () => createScriptAgent(), untilIdle: true, pollMs: 50, log: () => undefined });

    // A failed gate is a revision round; with none left (maxRevisions 0) a person must look.
    const after = await getBead(t.rig, bead.id);
    expect(after.status).toBe('in_review');
    expect(after.labels).toContain('gastown:needs-human');
    expect(git(t.remote, ['rev-parse', 'main'])).toBe(mainBefore);
    expect((await inbox(t.rig, 'mayor')).find((m) => m.type === 'NEEDS_HUMAN')?.body).toContain(
      "refused: the gate changed the Refinery worktree's .git",
    );
  });
});

describe('with --no-sandbox', () => {
  it("the runner's ref check names a push to the default branch it could not prevent (nothing stops it there)", async () => {
    const s = await scene();
    const bead = await arm(s, () =>
      scriptBead(s.town.rig, 'Push to main', [
        `echo evil > evil.txt && git add -A && git commit -qm evil && git push -q --no-verify ${s.remote} HEAD:refs/heads/main`,
      ]),
    );

    const { lines } = await work(s, { sandbox: createNoSandbox() });

    const after = await getBead(s.town.rig, bead.id);
    const main = git(s.remote, ['rev-parse', 'main']);
    expect(main).not.toBe(s.remoteRefs.get('refs/heads/main'));
    expect(after.status).toBe('failed');
    expect(await failureOf(s, bead)).toContain(
      `refused: refs moved while the agent worked: refs/heads/main on origin now points at ${main.slice(0, 12)}, which this workspace made`,
    );
    expect(lines.join('\n')).not.toContain(GITHUB_TOKEN);
  });
});
