import { describe, expect, it } from 'vitest';
import { githubClosesOnMerge } from '../../src/github/advance-bead.js';

describe('whether GitHub closes a bead issue itself when its pull request is merged', () => {
  const merged = (body: string, baseRef = 'main') => ({ merged: true, body, baseRef });

  it('yes for a closing keyword naming the issue, merged into the default branch', () => {
    expect(githubClosesOnMerge(merged('Closes #12\n\nWork.'), 12, 'main')).toBe(true);
    expect(githubClosesOnMerge(merged('This fixes: #12'), 12, 'main')).toBe(true);
    expect(githubClosesOnMerge(merged('resolved #12.'), 12, 'main')).toBe(true);
  });

  it('no for another issue, another branch, no keyword, an unmerged or unknown base', () => {
    expect(githubClosesOnMerge(merged('Closes #123'), 12, 'main')).toBe(false);
    expect(githubClosesOnMerge(merged('Closes #12', 'develop'), 12, 'main')).toBe(false);
    expect(githubClosesOnMerge(merged('See #12'), 12, 'main')).toBe(false);
    expect(githubClosesOnMerge({ merged: false, body: 'Closes #12', baseRef: 'main' }, 12, 'main')).toBe(false);
    expect(githubClosesOnMerge({ merged: true, body: 'Closes #12' }, 12, 'main')).toBe(false);
  });
});
