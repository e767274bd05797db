/**
 * Slack acknowledgement latency: 200 concurrent signed `/gt` slash commands over loopback to
 * the real HTTP handler (attachSlack on a real node server), with the real services over a
 * real temporary rig. Slack's response_url posts go to a loopback stand-in, and so does the
 * Web API (SLACK_API_URL); nothing leaves the machine.
 *
 * Prints p50/p99 of the acknowledgement (the HTTP 200 Slack waits three seconds for) and of
 * the full answer (the response_url post). Target: ack p99 ≤ 300 ms.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBead } from '../src/rig/beads.js';
import { sendMail } from '../src/rig/mail.js';
import { Rig } from '../src/rig/rig.js';
import { attachSlack } from '../src/slack/attach-slack.js';
import { createLocalRigProvider } from '../src/rig/rig-provider.js';
import type { NodeHandler } from '../src/slack/slack-http-receiver.js';
import { silentLogger } from '../src/structured-logger.js';
import { slackSignature } from '../src/slack/verify-slack-signature.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const ROUNDS = 3;
const SECRET = 'bench-signing-secret';
const KINDS = (process.env.BENCH_COMMANDS ?? 'status,ready,feed,trail,mail inbox,help,convoy').split(',');
/** The i-th command: kinds in turn; feed and trail sizes and convoy ids vary, so few requests ask the very same thing. */
function commandText(i: number): string {
  const kind = KINDS[i % KINDS.length]!;
  const n = 1 + (Math.floor(i / KINDS.length) % 50);
  if (kind === 'feed' || kind === 'trail') return `${kind} ${n}`;
  if (kind === 'convoy') return `convoy cv-none${n.toString(36)}`;
  return kind;
}

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** The server side, in its own process: the rig, attachSlack and a node server; prints its URL. */
async function serve(responseUrlBase: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-slack-'));
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.test',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.test',
  };
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: gitEnv });
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'root'], { cwd: dir, env: gitEnv });
  Rig.init(dir);
  const seed = await Rig.open({ repoDir: dir, actor: 'bench' });
  for (let i = 0; i < 50; i++) await createBead(seed, { title: `bench bead ${i}` });
  for (let i = 0; i < 20; i++) await sendMail(seed, { from: 'nux', to: 'octocat', subject: `note ${i}`, body: 'hello' });
  seed.close();

  // The Web API stand-in (loopback): the pumps may call it; nothing leaves the machine.
  const webApi = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"ts":"1.1","channel":{"id":"D1"}}'));
  });
  const provider = createLocalRigProvider({ repoDir: dir, repo: 'acme/web' });
  let handler: NodeHandler | undefined;
  const slack = await attachSlack({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: `${webApi.url}/api/`,
      SLACK_BOT_ID: 'B0BENCH',
      SLACK_BOT_USER_ID: 'U0BENCH',
      SLACK_USER_MAP: 'U0OCTO:octocat',
    },
    addHandler: (h) => (handler = h),
    logger: silentLogger,
    provider,
    pumpIntervalMs: 3_600_000,
    clientOptions: { retryConfig: { retries: 0 } },
  });
  const app = await listen((req, res) => {
    void handler!(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  process.stdout.write(`${app.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void (async () => {
      await slack!.stop();
      await provider.close();
      await Promise.all([app.close(), webApi.close()]);
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
  void responseUrlBase;
}

/** The load side: the response_url stand-in, the server child, 200 concurrent signed commands per round. */
async function main(): Promise<void> {
  const answered = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const responses = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = (req.url ?? '').split('/').pop()!;
      answered.set(id, performance.now());
      waiters.get(id)?.();
      res.writeHead(200).end('ok');
    });
  });
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/slackprof'] : []),
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--server',
      responses.url,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: process.env,
    },
  );
  const appUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });

  // Keep-alive, like Slack's own connections; plain http.request keeps the load side cheap.
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  async function one(round: number, i: number): Promise<{ ack: number; answer: number }> {
    const id = `${round}-${i}`;
    const answeredP = new Promise<void>((r) => waiters.set(id, r));
    const form = new URLSearchParams({
      token: 'unused',
      team_id: 'T0BENCH',
      team_domain: 'bench',
      channel_id: 'C0BENCH',
      channel_name: 'bench',
      user_id: 'U0OCTO',
      user_name: 'octocat',
      command: '/gt',
      text: commandText(i),
      api_app_id: 'A0BENCH',
      response_url: `${responses.url}/respond/${id}`,
      trigger_id: `${id}.trigger`,
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(SECRET, ts, form),
    };
    const start = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${appUrl}/slack/events`, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(form);
    });
    const ack = performance.now() - start;
    if (status !== 200) throw new Error(`request ${id} got HTTP ${status}`);
    await answeredP;
    return { ack, answer: answered.get(id)! - start };
  }

  console.log(
    `bench:slack — ${CONCURRENCY} concurrent signed /gt commands over loopback (${KINDS.join(', ')}; feed/trail sizes and convoy ids vary), real rig, server in its own process, ${ROUNDS} rounds`,
  );
  // One warm-up round (JIT, connections, the ledger's long-lived git processes), not counted.
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => one(-1, i)));
  const acks: number[] = [];
  const answers: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => one(round, i)));
    const wall = performance.now() - t0;
    const a = results.map((r) => r.ack).sort((x, y) => x - y);
    const b = results.map((r) => r.answer).sort((x, y) => x - y);
    acks.push(...a);
    answers.push(...b);
    console.log(
      `round ${round + 1}: ack p50 ${ms(percentile(a, 50))} p99 ${ms(percentile(a, 99))} max ${ms(a.at(-1)!)} · ` +
        `answer p50 ${ms(percentile(b, 50))} p99 ${ms(percentile(b, 99))} · wall ${ms(wall)}`,
    );
  }
  acks.sort((x, y) => x - y);
  answers.sort((x, y) => x - y);
  const p99 = percentile(acks, 99);
  console.log(`all ${acks.length}: ack p50 ${ms(percentile(acks, 50))} p99 ${ms(p99)} (target ≤ 300 ms: ${p99 <= 300 ? 'met' : 'MISSED'})`);
  console.log(`all ${answers.length}: answer (response_url) p50 ${ms(percentile(answers, 50))} p99 ${ms(percentile(answers, 99))}`);

  agent.destroy();
  child.stdin!.end();
  await new Promise<void>((r) => child.once('exit', () => r()));
  await responses.close();
  if (p99 > 300) process.exitCode = 1;
}

if (process.argv[2] === '--server') await serve(process.argv[3] ?? '');
else await main();
