import { describe, expect, it } from 'vitest';
import { repoUrl, type IssueTarget } from '../../src/github/delivery.js';

function target(url: string): IssueTarget {
  return { owner: 'o', repo: 'r', sender: 'octocat', issue: { number: 12, id: 1012, title: 't', body: null, url, labels: [] } };
}

describe('repoUrl', () => {
  it('keeps the host of the issue, so links on GitHub Enterprise Server point there', () => {
    expect(repoUrl(target('https://github.com/o/r/issues/12'))).toBe('https://github.com/o/r');
    expect(repoUrl(target('http://127.0.0.1:4000/o/r/issues/12'))).toBe('http://127.0.0.1:4000/o/r');
    expect(repoUrl(target('https://ghe.example.com/o/r/issues/12'))).toBe('https://ghe.example.com/o/r');
  });

  it('falls back to github.com when the issue URL is not an issue page', () => {
    expect(repoUrl(target(''))).toBe('https://github.com/o/r');
    expect(repoUrl(target('https://github.com/o/r/pull/12'))).toBe('https://github.com/o/r');
  });
});
