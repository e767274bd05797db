/** The double's own promises: GitHub's semantics for the calls the app makes, signed webhooks, faults. */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-repo.js';
import { GitHubDouble } from './github-double.js';

describe('the GitHub double', () => {
  const dir = tempDir('double');
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  let hook: Server;
  let double: GitHubDouble;
  let token: string;

  const api = async (method: string, path: string, body?: unknown, auth = token) => {
    const res = await fetch(`${double.apiUrl}/repos/o/r${path}`, {
      method,
      headers: { authorization: `token ${auth}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    double = await GitHubDouble.start({
      owner: 'o',
      repo: 'r',
      dir: dir.path,
      files: { 'README.md': '# r\n' },
      webhookSecret: 's3cret',
      appId: 7,
      gtBin: '/bin/false',
      collaborators: { ada: 'maintain' },
    });
    double.webhookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/`;
    const jwt = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 7 })).toString('base64url')}.sig`;
    const res = await fetch(`${double.apiUrl}/app/installations/4242/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    token = ((await res.json()) as { token: string }).token;
  });
  afterAll(async () => {
    await double.stop();
    hook.close();
    dir.cleanup();
  });

  it('finds the installation of the repository with the app JWT only', async () => {
    const jwt = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 7 })).toString('base64url')}.sig`;
    const withJwt = await fetch(`${double.apiUrl}/repos/o/r/installation`, { headers: { authorization: `Bearer ${jwt}` } });

    expect(withJwt.status).toBe(200);
    expect(await withJwt.json()).toMatchObject({ id: 4242, app_id: 7 });
    expect((await api('GET', '/installation')).status).toBe(401);
  });

  it('refuses unknown tokens and answers permissions with role names', async () => {
    expect((await api('GET', '/issues/1', undefined, 'ghs_nope')).status).toBe(401);
    expect((await api('GET', '/collaborators/ada/permission')).json).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect((await api('GET', '/collaborators/nobody/permission')).status).toBe(404);
  });

  it('links sub-issues and blocked-by edges by numeric id, refusing duplicates with 422', async () => {
    const parent = (await api('POST', '/issues', { title: 'goal' })).json;
    const child = (await api('POST', '/issues', { title: 'child', labels: ['gastown:bead'] })).json;
    const blocker = (await api('POST', '/issues', { title: 'blocker' })).json;

    expect((await api('POST', `/issues/${parent.number}/sub_issues`, { sub_issue_id: child.id })).status).toBe(201);
    expect((await api('POST', `/issues/${parent.number}/sub_issues`, { sub_issue_id: child.id })).status).toBe(422);
    expect((await api('POST', `/issues/${parent.number}/sub_issues`, { sub_issue_id: child.number })).status).toBe(404);
    expect((await api('POST', `/issues/${child.number}/dependencies/blocked_by`, { issue_id: blocker.id })).status).toBe(201);
    const listed = (await api('GET', `/issues/${parent.number}/sub_issues`)).json;
    expect(listed.map((i: { number: number }) => i.number)).toEqual([child.number]);
    expect(listed[0].issue_dependencies_summary).toMatchObject({ blocked_by: 1, total_blocked_by: 1 });
    expect((await api('GET', `/issues/${child.number}/dependencies/blocked_by`)).json[0].id).toBe(blocker.id);
  });

  it('paginates with a Link header Octokit follows', async () => {
    const issue = (await api('POST', '/issues', { title: 'chatty' })).json;
    for (let i = 0; i < 3; i++) await api('POST', `/issues/${issue.number}/comments`, { body: `c${i}` });

    const first = await api('GET', `/issues/${issue.number}/comments?per_page=2`);
    const second = await fetch(/<([^>]+)>; rel="next"/.exec(first.headers.get('link')!)![1]!, {
      headers: { authorization: `token ${token}` },
    }).then((r) => r.json());

    expect(first.json.map((c: { body: string }) => c.body)).toEqual(['c0', 'c1']);
    expect((second as { body: string }[]).map((c) => c.body)).toEqual(['c2']);
  });

  it('sends signed webhooks in the shape of GitHub’s examples', async () => {
    await double.webhooks.settled();
    const opened = received.find((r) => r.headers['x-github-event'] === 'issues' && JSON.parse(r.body).action === 'opened')!;
    const payload = JSON.parse(opened.body);

    expect(opened.headers['x-hub-signature-256']).toBe(`sha256=${createHmac('sha256', 's3cret').update(opened.body).digest('hex')}`);
    expect(opened.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.installation.id).toBe(4242);
    expect(payload.repository).toMatchObject({ full_name: 'o/r', default_branch: 'main', html_url: `${double.webUrl}/o/r` });
    expect(payload.issue.url).toBe(`${double.apiUrl}/repos/o/r/issues/${payload.issue.number}`);
    expect(payload.sender).toMatchObject({ login: 'gastown[bot]', type: 'Bot' });
  });

  it('merges a pull request into main for real, closing the issue its body names', async () => {
    const issue = (await api('POST', '/issues', { title: 'fix it' })).json;
    const { execFileSync } = await import('node:child_process');
    const work = `${dir.path}/work`;
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'a',
      GIT_AUTHOR_EMAIL: 'a@x',
      GIT_COMMITTER_NAME: 'a',
      GIT_COMMITTER_EMAIL: 'a@x',
    };
    execFileSync(
      'sh',
      [
        '-c',
        `git clone -q ${double.repo.url} ${work} && cd ${work} && git checkout -q -b fix && echo fixed > FIX && git add FIX && git commit -qm fix && git push -q origin fix`,
      ],
      { env },
    );
    const pr = (await api('POST', '/pulls', { head: 'fix', base: 'main', title: 'Fix', body: `Closes #${issue.number}` })).json;

    expect((await api('POST', '/pulls', { head: 'fix', base: 'main', title: 'again' })).status).toBe(422);
    expect((await double.mergePullRequest('ada', pr.number)).status).toBe(200);
    expect(await double.repo.readFile('FIX')).toBe('fixed\n');
    expect(double.state.issues.get(issue.number)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(double.state.pulls.get(pr.number)).toMatchObject({ merged: true, mergedBy: { login: 'ada' } });
  });

  it('fails the requests a fault names, after letting some through', async () => {
    double.fault({ method: 'GET', path: /\/issues\/1$/, status: 502, after: 1, times: 2 });

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api('GET', '/issues/1')).status);

    expect(statuses).toEqual([200, 502, 502, 200]);
    expect(double.count('GET', /\/issues\/1$/)).toBeGreaterThanOrEqual(4);
  });

  const gql = async (query: string, variables: Record<string, unknown> = {}, auth = token) => {
    const res = await fetch(`${double.webUrl}/api/graphql`, {
      method: 'POST',
      headers: { authorization: `bearer ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };
  const CREATE = `mutation create($a: CreateIssueInput!, $b: CreateIssueInput!) {
    a: createIssue(input: $a) { issue { id number fullDatabaseId parent { number } } }
    b: createIssue(input: $b) { clientMutationId issue { number } }
  }`;

  it('runs batched GraphQL mutations in order: createIssue with a parent and labels makes labelled sub-issues', async () => {
    const parent = (await api('POST', '/issues', { title: 'goal' })).json;
    const lookup = await gql(
      'query q($o: String!, $n: Int!) { repository(owner: $o, name: "r") { id issue(number: $n) { id } bead: label(name: "gastown:bead") { id } none: label(name: "nope") { id } } }',
      { o: 'o', n: parent.number },
    );
    const { id: repositoryId, issue, bead } = lookup.json.data.repository;

    const created = await gql(CREATE, {
      a: { repositoryId, title: 'first', body: '<!-- gastown:bead gt-a -->', parentIssueId: issue.id, labelIds: [bead.id] },
      b: { repositoryId, title: 'second', parentIssueId: issue.id, clientMutationId: 'm2' },
    });

    expect(lookup.json.data.repository.none).toBeNull();
    expect(created.json.errors).toBeUndefined();
    const { a, b } = created.json.data;
    expect(a.issue.parent.number).toBe(parent.number);
    expect(b).toMatchObject({ clientMutationId: 'm2', issue: { number: a.issue.number + 1 } });
    expect(double.state.issues.get(parent.number)!.subIssues).toEqual([a.issue.number, b.issue.number]);
    expect(double.state.issues.get(a.issue.number)).toMatchObject({
      labels: ['gastown:bead'],
      id: Number(a.issue.fullDatabaseId),
      viaApp: 7,
    });
    const listed = (await api('GET', `/issues/${parent.number}/sub_issues`)).json;
    expect(listed.map((i: { node_id: string }) => i.node_id)).toEqual([a.issue.id, `I_${double.state.issues.get(b.issue.number)!.id}`]);

    const edge = await gql(
      'mutation e($i: AddBlockedByInput!) { e: addBlockedBy(input: $i) { issue { number } blockingIssue { number } } }',
      { i: { issueId: `I_${double.state.issues.get(b.issue.number)!.id}`, blockingIssueId: a.issue.id } },
    );
    const again = await gql('mutation e($i: AddBlockedByInput!) { e: addBlockedBy(input: $i) { issue { number } } }', {
      i: { issueId: `I_${double.state.issues.get(b.issue.number)!.id}`, blockingIssueId: a.issue.id },
    });
    const cycle = await gql('mutation e($i: AddBlockedByInput!) { e: addBlockedBy(input: $i) { issue { number } } }', {
      i: { issueId: a.issue.id, blockingIssueId: `I_${double.state.issues.get(b.issue.number)!.id}` },
    });

    expect(edge.json.data.e).toEqual({ issue: { number: b.issue.number }, blockingIssue: { number: a.issue.number } });
    expect(again.json).toEqual({
      data: { e: null },
      errors: [{ type: 'UNPROCESSABLE', path: ['e'], message: 'Dependency already exists' }],
    });
    expect(cycle.json.errors[0].message).toBe('Dependency would create a cycle');
  });

  it("answers GraphQL errors in GitHub's shapes: parse, unknown field, invalid variable, unknown node (beside the data that stands)", async () => {
    const parse = await gql('query { repository(owner: "o" name: "r") { id }');
    const field = await gql('query { repository(owner: "o", name: "r") { id nope } }');
    const variable = await gql(CREATE, { a: { repositoryId: 'x' }, b: { repositoryId: 'x', title: 't', colour: 'red' } });
    const node = await gql(CREATE, {
      a: { repositoryId: 'R_nope', title: 't' },
      b: { repositoryId: double.state.repoNodeId, title: 'kept' },
    });

    expect(parse.json.errors[0].message).toMatch(/^Parse error on "end of file"/);
    expect(field.json).toEqual({
      errors: [
        expect.objectContaining({
          message: "Field 'nope' doesn't exist on type 'Repository'",
          extensions: { code: 'undefinedField', typeName: 'Repository', fieldName: 'nope' },
        }),
      ],
    });
    expect(variable.json.data).toBeUndefined();
    expect(variable.json.errors.map((e: { message: string }) => e.message)).toEqual([
      'Variable $a of type CreateIssueInput! was provided invalid value for title (Expected value to not be null)',
      'Variable $b of type CreateIssueInput! was provided invalid value for colour (Field is not defined on CreateIssueInput)',
    ]);
    expect(node.json.data.a).toBeNull();
    expect(node.json.data.b.issue.number).toEqual(expect.any(Number));
    expect(node.json.errors).toEqual([
      { type: 'NOT_FOUND', path: ['a'], message: "Could not resolve to a node with the global id of 'R_nope'" },
    ]);
  });

  it('enforces a secondary rate limit on content creation: 403 with retry-after, before anything is done', async () => {
    double.secondaryRateLimit = { max: 2, windowMs: 60_000 };
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await api('POST', '/issues', { title: `limited ${i}` }));
      const read = await api('GET', '/issues/1');

      expect(answers.map((a) => a.status)).toEqual([201, 201, 403]);
      expect(answers[2]!.json.message).toMatch(/secondary rate limit/);
      expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect([...double.state.issues.values()].filter((i) => i.title.startsWith('limited '))).toHaveLength(2);
      expect(read.status).toBe(200);
    } finally {
      double.secondaryRateLimit = null;
    }
  });

  it('a fault after the write: GitHub does it, then answers the fault', async () => {
    double.fault({ method: 'POST', path: /\/issues$/, status: 502, executed: true });

    const lost = await api('POST', '/issues', { title: 'done but unanswered' });

    expect(lost.status).toBe(502);
    expect([...double.state.issues.values()].some((i) => i.title === 'done but unanswered')).toBe(true);
  });

  it("records whose work each request is: the app's, a person's, a job's with the token the app scoped for it", async () => {
    const from = double.requests.length;
    await api('GET', '/issues/1');
    const jwt = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 7 })).toString('base64url')}.sig`;
    const minted = await fetch(`${double.apiUrl}/app/installations/4242/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ repository_ids: [1], permissions: { contents: 'write' } }),
    });
    const scoped = ((await minted.json()) as { token: string }).token;
    await api('GET', '/pulls', undefined, scoped);
    await double.closePullRequest('ada', 999);

    expect(double.requests.slice(from).map((r) => `${r.by} ${r.method} ${r.path}`)).toEqual([
      'app GET /repos/o/r/issues/1',
      // No job asked for its OIDC token: a scoped token minted then is not a token exchange's.
      'app POST /app/installations/4242/access_tokens',
      'job GET /repos/o/r/pulls',
      'person PATCH /repos/o/r/pulls/999',
    ]);
  });
});
