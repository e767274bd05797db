/**
 * A forge whose new pull requests carry a note at the end of their body; everything else is
 * the wrapped forge's. The polecat action uses it when it pushes with the workflow's
 * GITHUB_TOKEN instead of the app's scoped token: GitHub starts no workflows for pushes and
 * pull requests made with that token, so the pull request must say that its CI has not run.
 */
import type { ForgePort, OpenPullRequestInput } from './forge-port.js';
import { markdownInline } from './markdown-text.js';

export function withPullRequestNote(forge: ForgePort, note: (input: OpenPullRequestInput) => string): ForgePort {
  return new Proxy(forge, {
    get(target, key) {
      if (key === 'openPullRequest')
        return (input: OpenPullRequestInput) => target.openPullRequest({ ...input, body: `${input.body}\n\n${note(input)}` });
      const value = Reflect.get(target, key, target) as unknown;
      // The adapter keeps private state (#octokit): its methods must run on it, not on the proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What a pull request opened with the workflow's token says (`reason`: why the app gave no token). */
export function fallbackTokenNote(input: Pick<OpenPullRequestInput, 'head'>, reason: string): string {
  const why = markdownInline(reason, 300);
  return [
    '> [!WARNING]',
    `> This pull request was opened with the workflow's \`GITHUB_TOKEN\`${why ? ` (no scoped token from the Gas Town app: ${why})` : ''}.`,
    '> GitHub starts no workflows for pushes and pull requests made with that token, so CI has not run on it:',
    `> push a commit to \`${input.head}\`, or close and reopen this pull request, to run the checks.`,
  ].join('\n');
}
