/**
 * One RigProvider suite, every provider: the local provider over a real rig directory (named
 * and unnamed), and the GitHub provider over the app's ledger mirrors, with the GitHub double
 * as the forge (installation lookup, config, collaborator permissions, the issue flow) and
 * its bare repository as the ledger's remote.
 */
import { join } from 'node:path';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import { createGithubRigProvider } from '../../src/github/github-rig-provider.js';
import { Rig } from '../../src/rig/rig.js';
import { createLocalRigProvider, type RigProvider } from '../../src/rig/rig-provider.js';
import { initRepo, tempDir } from '../helpers/temp-repo.js';
import { silentLog } from '../helpers/probot-test.js';
import { startDoubleGitHub } from '../support/conformance/double-github.js';
import { rigProviderSuite } from '../support/conformance/rig-provider-suite.js';

// The product's own git processes inherit this: no developer config, no ambient identity.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

function localRig(opts: { repo?: string; writers?: string[] }) {
  const dir = tempDir('conformance-rig');
  initRepo(dir.path);
  Rig.init(dir.path);
  const made: RigProvider[] = [];
  return {
    provider() {
      const p = createLocalRigProvider({ repoDir: dir.path, ...opts });
      made.push(p);
      return p;
    },
    async close() {
      for (const p of made) await p.close();
      dir.cleanup();
    },
  };
}

rigProviderSuite('local provider, named acme/web', async () => {
  const local = localRig({ repo: 'acme/web', writers: ['ada'] });
  return { ...local, unknownRepo: 'acme/elsewhere', people: { writers: ['ada', 'ADA'], others: ['rita', 'stranger'] }, forge: null };
});

rigProviderSuite('local provider, unnamed, everyone writes', async () => {
  const local = localRig({});
  return { ...local, unknownRepo: null, people: { writers: ['ada', 'rita'], others: [] }, forge: null };
});

rigProviderSuite('GitHub provider (ledger mirrors, GitHub double)', async () => {
  const gh = await startDoubleGitHub({ owner: 'acme', repo: 'web', collaborators: { ada: 'write', maria: 'maintain', rita: 'read' } });
  // GitHub answers 404 for a repository the app is not installed on; the double knows one repository only.
  gh.double.fault({
    method: 'GET',
    path: /^\/repos\/acme\/elsewhere\/installation$/,
    status: 404,
    body: { message: 'Not Found' },
    times: 1_000,
  });
  const data = tempDir('conformance-mirrors');
  const mirrors = new LedgerMirrors({ dataDir: join(data.path, 'data'), gitUrlTemplate: gh.double.gitUrlTemplate });
  const made: RigProvider[] = [];
  const person = gh.double.state.user('octocat');
  return {
    provider() {
      const p = createGithubRigProvider({
        mirrors,
        auth: (id) => gh.probot.auth(id),
        defaultRepo: 'acme/web',
        repos: ['ACME/Web'],
        log: silentLog,
      });
      made.push(p);
      return p;
    },
    unknownRepo: 'acme/elsewhere',
    people: { writers: ['ada', 'maria', 'acme'], others: ['rita', 'stranger'] },
    forge: {
      async openIssue(title) {
        const issue = gh.double.state.createIssue(person, { title, body: 'A goal.', labels: ['gastown:mayor'] });
        return { number: issue.number, url: `${gh.double.webUrl}/acme/web/issues/${issue.number}` };
      },
      issue(n) {
        const i = gh.double.state.issues.get(n);
        if (!i) return null;
        const comments = [...gh.double.state.comments.values()]
          .filter((c) => c.issue === n)
          .sort((a, b) => a.id - b.id)
          .map((c) => c.body);
        return { title: i.title, body: i.body ?? '', labels: [...i.labels], comments };
      },
      issuesTitled: (title) => [...gh.double.state.issues.values()].filter((i) => i.title === title).map((i) => i.number),
    },
    async close() {
      for (const p of made) await p.close();
      await mirrors.close();
      await gh.stop();
      data.cleanup();
    },
  };
});
