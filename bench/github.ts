/**
 * GitHub app benchmark: N issues labelled `gastown:mayor` go through the whole app (Probot,
 * repo config, permission, context, the Mayor over the Anthropic Messages API, the ledger
 * mirror synced with a file:// remote, child issues born as sub-issues and blocked-by edges
 * (GraphQL batches), the status comment, the first dispatch). GitHub and Anthropic are
 * answered by nock at once, so the time measured is the app's own (including its local git
 * work), not the network's. `npm run bench:github-loop` is the whole loop on the GitHub double.
 *
 *   npm run bench:github           # 20 issues, 4 beads and 3 edges each
 *   npm run bench:github -- 50     # another number of issues
 *   npm run bench:github -- 20 8   # 20 issues of 8 beads (7 edges) each
 *
 * Targets: GitHub API requests per planned bead ≤ 3.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { createGastownApp } from '../src/app.js';
import { createAppDeps } from '../src/github/app-deps.js';
import type { Plan } from '../src/town/types.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

const ISSUES = Number(process.argv[2] ?? 20) || 20;
const OWNER = 'Codertocat';
const REPO = 'Hello-World';
const R = `/repos/${OWNER}/${REPO}`;
const root = join(import.meta.dirname, '..');

const BEADS = Number(process.argv[3] ?? 4) || 4;
/** A plan of BEADS beads as a binary tree of dependencies (BEADS - 1 edges); 4 gives a ← b, a ← c, b ← d. */
const plan: Plan = {
  summary: 'Add --json everywhere',
  beads: [...Array(BEADS).keys()].map((i) => ({
    key: `k${i}`,
    title: `Bead ${i}`,
    description: `Do part ${i}.`,
    acceptance: ['works'],
    files: [`src/part-${i}.ts`],
    blockedBy: i === 0 ? [] : [`k${Math.floor((i - 1) / 2)}`],
  })),
};
const EDGES = plan.beads.reduce((n, b) => n + b.blockedBy.length, 0);

function stubAnthropic(): void {
  const response = JSON.parse(readFileSync(join(root, 'test/fixtures/anthropic/plan-valid.json'), 'utf8'));
  response.content[0].input = plan;
  nock('https://api.anthropic.com').persist().post('/v1/messages').reply(200, response);
}

/** A stand-in for GitHub's REST and GraphQL APIs that answers at once and counts requests by kind. */
function stubGitHub(counts: Map<string, number>): void {
  let next = 1000;
  const gh = nock('https://api.github.com').persist();
  gh.on('request', (req: { method: string; path: string }, _interceptor: unknown, body?: string) => {
    const operation = req.path === '/graphql' ? /^(query|mutation) (\w+)/.exec(JSON.parse(body ?? '{}').query ?? '') : null;
    const kind = operation
      ? `POST /graphql ${operation[1]} ${operation[2]}`
      : `${req.method} ${req.path
          .split('?')[0]!
          .replace(/\/\d+/g, '/:n')
          .replace(/collaborators\/[^/]+/, 'collaborators/:u')}`;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  });
  gh.post(/\/app\/installations\/\d+\/access_tokens/).reply(201, { token: 'ghs_bench', permissions: { issues: 'write' } });
  gh.get(`${R}/contents/.github%2Fgastown.yml`).reply(200, 'concurrency: 4\n', { 'content-type': 'text/plain; charset=utf-8' });
  gh.get(/\/collaborators\/[^/]+\/permission$/).reply(200, { permission: 'admin', role_name: 'admin', user: { login: OWNER } });
  // The forge's GraphQL, answered from the request's variables: node ids, issues, edges.
  gh.post('/graphql', (b: any) => /^query gastownTargets\b/.test(b.query)).reply(200, (_u, body: any) => {
    const repository: Record<string, unknown> = { id: 'R_bench', parent: { id: `I_${body.variables.parent}` } };
    for (const [k, v] of Object.entries(body.variables as Record<string, unknown>))
      if (/^l\d+$/.test(k)) repository[k] = { id: `LA_${v}`, name: v };
    return { data: { repository } };
  });
  gh.post('/graphql', (b: any) => /^mutation gastownCreateIssues\b/.test(b.query)).reply(200, (_u, body: any) => {
    const data: Record<string, unknown> = {};
    for (const alias of Object.keys(body.variables)) {
      const number = next++;
      data[alias] = {
        issue: {
          id: `I_${number}`,
          fullDatabaseId: String(100_000 + number),
          number,
          url: `https://github.com/${OWNER}/${REPO}/issues/${number}`,
        },
      };
    }
    return { data };
  });
  gh.post('/graphql', (b: any) => /^mutation gastownBlockedBy\b/.test(b.query)).reply(200, (_u, body: any) => ({
    data: Object.fromEntries(Object.keys(body.variables).map((alias) => [alias, { issue: { number: 0 }, blockingIssue: { number: 0 } }])),
  }));
  // The Mayor's context: one GraphQL query (comments, top-level tree, README / AGENTS / CONTRIBUTING).
  gh.post('/graphql', (b: any) => /^query gastownContext\b/.test(b.query)).reply(200, {
    data: {
      repository: {
        issue: { comments: { pageInfo: { hasNextPage: false }, nodes: [] } },
        tree: {
          entries: [
            { name: 'README.md', type: 'blob', mode: 33188 },
            { name: 'src', type: 'tree', mode: 16384 },
          ],
        },
        readme: { text: '# Hello' },
        agents: null,
        contributing: null,
      },
    },
  });
  // Not asked for a fresh convoy (the forge is primed); kept so a regression shows in the counts.
  gh.get(/\/issues\/\d+\/comments/).reply(200, []);
  gh.get(/\/issues\/\d+\/sub_issues/).reply(200, []);
  gh.post(`${R}/issues`).reply(201, (_u, body: any) => {
    const number = next++;
    return {
      id: 100_000 + number,
      number,
      html_url: `https://github.com/${OWNER}/${REPO}/issues/${number}`,
      title: body.title,
      body: body.body,
    };
  });
  gh.post(/\/issues\/\d+\/sub_issues$/).reply(201, {});
  gh.post(/\/issues\/\d+\/dependencies\/blocked_by$/).reply(201, {});
  gh.post(/\/issues\/\d+\/comments$/).reply(201, { id: 777 });
  gh.post(`${R}/actions/workflows/gastown-polecat.yml/dispatches`).reply(204, '');
}

function payload(issue: number): unknown {
  const p = JSON.parse(readFileSync(join(root, 'test/fixtures/github/issues.labeled.json'), 'utf8'));
  p.issue.number = issue;
  p.issue.id = 9_000_000 + issue;
  p.issue.html_url = `https://github.com/${OWNER}/${REPO}/issues/${issue}`;
  return p;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-gh-'));
  const remote = join(dir, 'github', OWNER, `${REPO}.git`);
  mkdirSync(remote, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', remote]);
  nock.disableNetConnect();
  stubAnthropic();
  const counts = new Map<string, number>();
  stubGitHub(counts);

  const deps = createAppDeps({
    GASTOWN_DATA_DIR: join(dir, 'data'),
    GASTOWN_GIT_URL: `file://${dir}/github/{owner}/{repo}.git`,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
  });
  const privateKey = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  const Octokit = ProbotOctokit.defaults((o: any) => ({ ...o, retry: { enabled: false }, throttle: { ...o.throttle, enabled: false } }));
  // One long-lived app, as in production: the installation token is asked for once.
  const probot = new Probot({ appId: 1, privateKey, Octokit, log: pino({ level: 'silent' }), secret: 'bench' });
  await probot.load(createGastownApp(deps), { cwd: root, addHandler: () => undefined });

  const times: number[] = [];
  const requests: number[] = [];
  const total = () => [...counts.values()].reduce((a, b) => a + b, 0);
  try {
    // One warm-up issue (module loading, first git processes, the token) is left out of the figures.
    for (let i = 0; i <= ISSUES; i++) {
      const before = total();
      if (i === 1) counts.clear();
      const t = process.hrtime.bigint();
      await probot.receive({ name: 'issues', id: `bench-${i}`, payload: payload(i + 1) as any });
      if (i > 0) {
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        requests.push(total() - (i === 1 ? 0 : before));
      }
    }
  } finally {
    await deps.close?.();
    nock.cleanAll();
    rmSync(dir, { recursive: true, force: true });
  }

  const beads = plan.beads.length;
  const perIssue = requests.reduce((a, b) => a + b, 0) / ISSUES;
  const perBead = perIssue / beads;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const perBeadKinds = ['POST /graphql mutation gastownCreateIssues', 'POST /graphql mutation gastownBlockedBy'];
  const marginal = perBeadKinds.reduce((n, k) => n + (counts.get(k) ?? 0), 0) / (ISSUES * beads);

  console.log(`GitHub app bench: ${ISSUES} labelled issues, ${beads} beads and ${EDGES} edges each (1 warm-up issue not counted)`);
  console.log(`  GitHub API requests per labelled issue: ${perIssue.toFixed(2)}`);
  console.log(`  GitHub API requests per planned bead:   ${perBead.toFixed(2)}   (target ≤ 3: ${perBead <= 3 ? 'met' : 'NOT met'})`);
  console.log(`    of which batches of child issues and edges: ${marginal.toFixed(2)}; the rest is per issue`);
  for (const [kind, n] of [...counts.entries()].sort()) console.log(`    ${(n / ISSUES).toFixed(2).padStart(5)} × ${kind}`);
  console.log(
    `  app time per labelled issue (probot.receive wall time, replies instant): mean ${mean.toFixed(1)} ms, ` +
      `p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
  );
  console.log("  (includes the ledger mirror's local git work: 3 syncs with a file:// remote per issue)");
}

await main();
