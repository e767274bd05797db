/**
 * One ForgePort suite, every adapter: the local null object, and the GitHub adapter over an
 * installation's Octokit talking to the GitHub double on 127.0.0.1.
 */
import { GitHubForge } from '../../src/forge/github-forge.js';
import { LocalForge } from '../../src/forge/local-forge.js';
import { startDoubleGitHub } from '../support/conformance/double-github.js';
import { forgePortSuite } from '../support/conformance/forge-port-suite.js';

forgePortSuite('LocalForge', async () => ({
  forge: () => new LocalForge(),
  host: null,
  base: 'main',
  workflow: { file: 'gastown-polecat.yml', inputs: { bead: 'gt-0001' } },
  close: async () => {},
}));

forgePortSuite('GitHubForge (GitHub double)', async () => {
  const gh = await startDoubleGitHub();
  const octokit = await gh.installation();
  return {
    forge: () => new GitHubForge({ octokit, owner: gh.owner, repo: gh.repo }),
    host: gh.host,
    base: 'main',
    workflow: { file: 'noop.yml', inputs: { bead: 'gt-0001' } },
    close: () => gh.stop(),
  };
});
