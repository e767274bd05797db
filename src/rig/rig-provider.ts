import { GastownError } from '../errors.js';
import type { StructuredLogger } from '../structured-logger.js';
import type { PermissionChecker, RepoPermission } from '../town/permissions.js';
import { Rig } from './rig.js';

/**
 * Where a surface that serves several repositories (Slack) finds a rig. The local provider
 * serves one rig directory (local mode, tests, the bench); the GitHub provider
 * (github/github-rig-provider.ts) serves one ledger mirror per repository. `repo` null means
 * "the default repository". Callers never ask which provider this is: what differs is a
 * capability (`issueFlow`).
 */
export interface RigProvider {
  /** The repository commands without one act on; null when there is none. */
  readonly defaultRepo: string | null;
  /** The repositories whose ledgers are searched for a bead, convoy or agent. */
  repos(): Promise<(string | null)[]>;
  /** Runs `fn` with the repository's rig (resolved from `repo`, or the default). */
  withRig<T>(repo: string | null, fn: (rig: Rig) => Promise<T>): Promise<T>;
  /** Who may change what, when the provider knows (GitHub: collaborator permissions). */
  readonly permissions?: PermissionChecker;
  /**
   * Present when the forge's own flow plans goals, materialises approved plans and
   * dispatches their beads (GitHub): goals and approvals are then handed to it. Absent: this
   * process plans, and dispatches ready beads after a plan or an approval itself.
   */
  readonly issueFlow?: IssueFlow;
  close(): Promise<void>;
}

/** The requests a surface makes of a forge-driven flow, on behalf of a person. */
export interface IssueFlow {
  /**
   * Opens an issue labelled for the Mayor, so the forge's flow plans it. `sourceKey` is the
   * key the flow records the convoy under (`TownService.convoyFor`).
   */
  openGoalIssue(repo: string, goal: string, requestedBy: string): Promise<{ number: number; url: string; sourceKey: string }>;
  /**
   * Posts a `/gt` command on an issue on behalf of a person (whose write access the caller
   * has checked), so the forge's flow runs it as that person.
   */
  requestOnIssue(repo: string, issueNumber: number, command: string, requestedBy: string): Promise<{ url: string }>;
  /**
   * The forge's emergency stop, as a person (whose write access the caller has checked): the
   * town's flag (`TownService.estop`) published, and the forge's in-flight polecat runs
   * cancelled; a release dispatches the waiting beads again. No issue is needed.
   */
  emergencyStop?(repo: string, engaged: boolean, requestedBy: string): Promise<{ changed: boolean; cancelled: number }>;
}

export interface LocalRigProviderOptions {
  /** Any directory inside the rig's repository. */
  repoDir: string;
  /** The `owner/repo` this rig stands for in Slack (permission checks, `/gt status owner/repo`); null: unnamed. */
  repo?: string | null;
  /**
   * Logins with write access in local mode. Undefined: every linked Slack user may write
   * (a local install trusts its own people); a list: only those, the rest read.
   */
  writers?: readonly string[];
  now?: () => Date;
  /** Where a ledger entity left out of a read (it does not validate) is reported. */
  logger?: Pick<StructuredLogger, 'warn'>;
}

/** One rig directory, opened once and shared by every call. */
export function createLocalRigProvider(opts: LocalRigProviderOptions): RigProvider {
  const name = opts.repo ?? null;
  let opened: Promise<Rig> | null = null;
  const rig = (): Promise<Rig> => {
    if (opened === null) {
      const opening = Rig.open({
        repoDir: opts.repoDir,
        actor: 'gastown',
        ...(opts.now ? { now: opts.now } : {}),
        onInvalid: (ref, problem) => opts.logger?.warn({ ref, problem }, 'Skipped a ledger entity that does not validate (see gt doctor)'),
      });
      // A failed open is tried again by the next call.
      opening.catch(() => {
        if (opened === opening) opened = null;
      });
      opened = opening;
    }
    return opened;
  };
  const writers = opts.writers ? new Set(opts.writers.map((w) => w.toLowerCase())) : null;
  /** A repository this provider does not serve (a named rig serves its own name only). */
  const refuse = (repo: string | null): void => {
    if (repo !== null && name !== null && repo.toLowerCase() !== name.toLowerCase()) {
      throw new GastownError('gastown_not_found', `This Gas Town serves ${name} only, not ${repo}.`, { repo });
    }
  };
  const permissions: PermissionChecker = async (login, repo): Promise<RepoPermission> => {
    refuse(repo);
    return writers === null || writers.has(login.toLowerCase()) ? 'write' : 'read';
  };

  return {
    defaultRepo: name,
    permissions,
    async repos() {
      return [name];
    },
    async withRig(repo, fn) {
      refuse(repo);
      return fn(await rig());
    },
    async close() {
      const r = opened;
      opened = null;
      if (r) (await r.catch(() => null))?.close();
    },
  };
}
