/**
 * The null-object forge for local mode (no GitHub): every method succeeds and creates nothing,
 * so services need no `if (github)` branches. The Refinery merges locally instead of PRs.
 */
import type { ForgePort, ForgeLink } from './forge-port.js';
import { statusMarkerOf } from './status-marker.js';

export class LocalForge implements ForgePort {
  readonly hostsPullRequests = false;

  async ensureChildIssues(): Promise<ForgeLink[]> {
    return [];
  }

  async ensureBlockedBy(): Promise<void> {}

  async removeBlockedBy(): Promise<void> {}

  async ensureIssueText(): Promise<void> {}

  async ensureStatusComment(_parentIssueNumber: number, markdown: string): Promise<number | null> {
    statusMarkerOf(markdown);
    return null;
  }

  async setLabels(): Promise<void> {}

  async comment(): Promise<number | null> {
    return null;
  }

  async closeIssue(): Promise<void> {}

  async openPullRequest(): Promise<ForgeLink | null> {
    return null;
  }

  async dispatchWorkflow(): Promise<void> {}
}
