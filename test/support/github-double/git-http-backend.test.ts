/** The double serves its repository over git's smart HTTP, as GitHub does: clone, fetch (v2), push, refusals. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-repo.js';
import { GitHubDouble } from './github-double.js';

const run = promisify(execFile);
const ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'a',
  GIT_AUTHOR_EMAIL: 'a@example.test',
  GIT_COMMITTER_NAME: 'a',
  GIT_COMMITTER_EMAIL: 'a@example.test',
  GIT_TERMINAL_PROMPT: '0',
};

/** git, asynchronously: the double answers on this process's event loop. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', ['-C', cwd, ...args], { env: ENV, encoding: 'utf8' })).stdout;
}

async function gitFails(cwd: string, ...args: string[]): Promise<string> {
  return run('git', ['-C', cwd, ...args], { env: ENV, encoding: 'utf8' }).then(
    () => {
      throw new Error(`git ${args.join(' ')} succeeded`);
    },
    (err: { stderr: string }) => err.stderr,
  );
}

describe("the GitHub double's git over smart HTTP", () => {
  const dir = tempDir('double-git-http');
  let double: GitHubDouble;
  let url: string;

  beforeAll(async () => {
    double = await GitHubDouble.start({
      owner: 'o',
      repo: 'r',
      dir: dir.path,
      files: { 'README.md': '# r\n' },
      webhookSecret: 's',
      appId: 7,
      gtBin: '/bin/false',
    });
    const jwt = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 7 })).toString('base64url')}.sig`;
    const res = await fetch(`${double.apiUrl}/app/installations/4242/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    const { token } = (await res.json()) as { token: string };
    url = double.httpGitUrlTemplate.replace('{token}', token).replace('{owner}', 'o').replace('{repo}', 'r');
  });
  afterAll(async () => {
    await double.stop();
    dir.cleanup();
  });

  it('clones, fetches with protocol v2 and pushes a branch, outside the API request counts', async () => {
    const apiBefore = double.requests.length;
    const work = join(dir.path, 'one');
    await run('git', ['-c', 'protocol.version=2', 'clone', '--quiet', url, work], { env: ENV });
    expect(await git(work, 'log', '--format=%s')).toBe('Initial commit\n');

    // A commit on main made on the "server" (a merge button), fetched with v2.
    const merged = await double.repo.commitFiles({ 'a.txt': 'a\n' }, 'On GitHub');
    const v2 = join(dir.path, 'v2.trace');
    await run('git', ['-C', work, '-c', 'protocol.version=2', 'fetch', '--quiet', 'origin'], {
      env: { ...ENV, GIT_TRACE_PACKET: v2 },
    });
    expect(await git(work, 'rev-parse', 'origin/main')).toBe(`${merged}\n`);
    expect(readFileSync(v2, 'utf8')).toMatch(/version 2/);

    await git(work, 'checkout', '--quiet', '-b', 'feature', 'origin/main');
    await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'feature work');
    const head = (await git(work, 'rev-parse', 'HEAD')).trim();
    await git(work, 'push', '--quiet', 'origin', 'feature');
    expect(await double.repo.sha('refs/heads/feature')).toBe(head);

    expect(double.requests.length).toBe(apiBefore);
    const services = new Set(double.gitRequests.map((r) => `${r.method} ${r.path} ${r.service} ${r.status}`));
    expect(services).toEqual(
      new Set([
        'GET /info/refs git-upload-pack 200',
        'POST /git-upload-pack git-upload-pack 200',
        'GET /info/refs git-receive-pack 200',
        'POST /git-receive-pack git-receive-pack 200',
      ]),
    );
  });

  it('takes a push larger than git posts in one piece (a chunked body, no length)', async () => {
    const work = join(dir.path, 'big');
    await run('git', ['clone', '--quiet', url, work], { env: ENV });
    writeFileSync(join(work, 'noise.bin'), randomBytes(3 * 1024 * 1024));
    await git(work, 'add', 'noise.bin');
    await git(work, 'commit', '--quiet', '-m', 'noise');
    const trace = join(dir.path, 'big.trace');
    await run('git', ['-C', work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/big'], { env: { ...ENV, GIT_TRACE_CURL: trace } });
    expect(readFileSync(trace, 'utf8')).toMatch(/Transfer-Encoding: chunked/i);
    expect(await double.repo.sha('refs/heads/big')).toBe((await git(work, 'rev-parse', 'HEAD')).trim());
  });

  it('takes a gzipped request body (a fetch that wants many commits)', async () => {
    const work = join(dir.path, 'many');
    await run('git', ['clone', '--quiet', url, work], { env: ENV });
    for (let i = 0; i < 40; i++) {
      await git(work, 'commit', '--quiet', '--allow-empty', '-m', `commit ${i}`);
      await git(work, 'update-ref', `refs/many/${i}`, 'HEAD');
    }
    await git(work, 'push', '--quiet', 'origin', 'refs/many/*:refs/many/*');
    // 40 wants are more than git posts uncompressed (1 KiB).
    const fresh = join(dir.path, 'many-fresh');
    await run('git', ['init', '--quiet', '--bare', fresh], { env: ENV });
    const trace = join(dir.path, 'gzip.trace');
    await run('git', ['-C', fresh, '-c', 'protocol.version=2', 'fetch', '--quiet', url, 'refs/many/*:refs/many/*'], {
      env: { ...ENV, GIT_TRACE_CURL: trace, GIT_TRACE_CURL_NO_DATA: '1' },
    });
    expect(readFileSync(trace, 'utf8')).toMatch(/Content-Encoding: gzip/i);
    expect((await git(fresh, 'for-each-ref', 'refs/many/')).trim().split('\n')).toHaveLength(40);
  });

  it('refuses a push that is not a fast-forward, and leaves the branch where it was', async () => {
    const work = join(dir.path, 'two');
    await run('git', ['clone', '--quiet', url, work], { env: ENV });
    const ahead = await double.repo.commitFiles({ 'b.txt': 'b\n' }, 'Moved on GitHub');
    await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'behind');

    expect(await gitFails(work, 'push', 'origin', 'main')).toMatch(/\[rejected\][\s\S]*(fetch first|non-fast-forward)/);
    await git(work, 'fetch', '--quiet', 'origin');
    expect(await gitFails(work, 'push', 'origin', 'main')).toMatch(/\[rejected\][\s\S]*non-fast-forward/);
    expect(await double.repo.sha('refs/heads/main')).toBe(ahead);
  });

  it('lists and fetches refs by prefix (protocol v2 ref-prefix), such as a namespace of its own', async () => {
    const work = join(dir.path, 'three');
    await run('git', ['clone', '--quiet', url, work], { env: ENV });
    await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/gastown/beads/gt-1', 'HEAD:refs/gastown/beads/gt-2');
    const trace = join(dir.path, 'ls.trace');
    const traced = { env: { ...ENV, GIT_TRACE_PACKET: trace } };
    const { stdout } = await run('git', ['-C', work, '-c', 'protocol.version=2', 'ls-remote', '--heads', 'origin'], traced);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[1]),
    ).toEqual(['refs/heads/big', 'refs/heads/feature', 'refs/heads/main']);
    await run(
      'git',
      ['-C', work, '-c', 'protocol.version=2', 'fetch', '--quiet', 'origin', 'refs/gastown/beads/*:refs/gastown/beads/*'],
      traced,
    );
    expect(await git(work, 'for-each-ref', '--format=%(refname)', 'refs/gastown/')).toBe(
      'refs/gastown/beads/gt-1\nrefs/gastown/beads/gt-2\n',
    );
    const packets = readFileSync(trace, 'utf8');
    expect(packets).toMatch(/ls-remote> ref-prefix refs\/heads\//);
    expect(packets).toMatch(/fetch> ref-prefix refs\/gastown\/beads\//);
  });

  it('answers 401 to a token it never issued, and 404 for another repository', async () => {
    // Sent up front as a header (as the polecat action sends its token): git sends a URL's
    // credentials only when asked, and the double lets a request without any in.
    const header = (token: string) => `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    const issued = /x-access-token:([^@]+)@/.exec(url)![1]!;
    expect(await git(dir.path, '-c', header(issued), 'ls-remote', double.httpGitUrl, 'refs/heads/main')).toMatch(/refs\/heads\/main/);
    expect(double.gitRequests.at(-1)!.actor).toBe('gastown[bot]');
    expect(await gitFails(dir.path, '-c', header('ghs_nope'), 'ls-remote', double.httpGitUrl)).toMatch(
      /could not read Username|Authentication failed|401/,
    );
    const other = url.replace('/o/r.git', '/o/other.git');
    expect(await gitFails(dir.path, 'ls-remote', other)).toMatch(/not found|404/i);
  });
});
