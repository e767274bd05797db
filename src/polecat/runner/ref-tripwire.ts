import { runGitText } from '../../ledger/run-git.js';
import { fetchBranches, type RigRemote } from './rig-remote.js';

/** Every ref of the rig and of its remote, by name. */
export interface RefState {
  rig: Map<string, string>;
  remote: Map<string, string>;
}

export async function readRefState(rigDir: string, remote: RigRemote): Promise<RefState> {
  const [local, listed] = await Promise.all([
    runGitText(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: rigDir }),
    runGitText(['ls-remote', remote.remote], { cwd: rigDir }),
  ]);
  const rig = new Map(
    local.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))] as const),
  );
  const onRemote = new Map<string, string>();
  for (const line of listed.stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref && ref.startsWith('refs/') && !ref.endsWith('^{}')) onRemote.set(ref, sha);
  }
  return { rig, remote: onRemote };
}

export interface TripwireInput {
  rigDir: string;
  remote: RigRemote;
  /** The polecat's own branch: the one ref expected to move. */
  branch: string;
  /** The ledger's ref prefix, e.g. `refs/gastown/`. */
  ledgerPrefix: string;
  /**
   * Whether the ledger deletes this ref only by tombstone, so that its vanishing is damage.
   * Kinds whose history is replaced (a heartbeat) are deleted outright when their bead
   * finishes, by other runners and by this runner's own syncs while the agent works.
   */
  tombstoned: (ref: string) => boolean;
  before: RefState;
  after: RefState;
  /** The commit the workspace started from. */
  start: string;
  /** The workspace's commits the runner collected (its branch tip), or null. */
  tip: string | null;
}

/**
 * What moved while the agent worked that no agent of ours may move. The sandbox makes these
 * unreachable; this check is for when it is off (`--no-sandbox`) or broken, and it can only
 * report, not undo. Refs move legitimately all the time (other polecats, the Refinery,
 * ledger writers, people), so a move counts only when it is attributable to this agent:
 * - any ref but the polecat's own branch, in the rig or on the remote, that now points at a
 *   commit this workspace made (or, for a ledger ref, at the commit it started from);
 * - a ledger ref of a kind deleted only by tombstone, or the default branch, that vanished;
 * - the remote's default branch moved to a commit that does not descend from where it was
 *   (the Refinery and merges only fast-forward it; a person's force-push is named too).
 * Returns one line per problem, empty when nothing is wrong.
 */
export async function refsMovedByAgent(t: TripwireInput): Promise<string[]> {
  const made =
    t.tip && t.tip !== t.start
      ? new Set((await runGitText(['rev-list', t.tip, '--not', t.start], { cwd: t.rigDir })).stdout.split('\n').filter(Boolean))
      : new Set<string>();
  const ours = new Set([`refs/heads/${t.branch}`, `${t.remote.tracking}${t.branch}`]);
  const defaultRef = `refs/heads/${t.remote.defaultBranch}`;
  const problems: string[] = [];
  for (const where of ['rig', 'remote'] as const) {
    const before = t.before[where];
    const after = t.after[where];
    for (const ref of new Set([...before.keys(), ...after.keys()])) {
      const [was, now] = [before.get(ref), after.get(ref)];
      if (was === now || ours.has(ref)) continue;
      const ledger = ref.startsWith(t.ledgerPrefix);
      const label = where === 'rig' ? `${ref} in the rig` : `${ref} on ${t.remote.remote}`;
      if (now && (made.has(now) || (ledger && now === t.start)))
        problems.push(`${label} now points at ${now.slice(0, 12)}, which this workspace made`);
      else if (!now && ((ledger && t.tombstoned(ref)) || ref === defaultRef)) problems.push(`${label} was deleted`);
      else if (now && was && where === 'remote' && ref === defaultRef && !(await descends(t.rigDir, t.remote, was, now)))
        problems.push(`${label} was rewound or force-pushed (${was.slice(0, 12)} to ${now.slice(0, 12)})`);
    }
  }
  return problems;
}

/** Whether `now` descends from `was` (fetching the default branch when `now` is not here yet). */
async function descends(rigDir: string, remote: RigRemote, was: string, now: string): Promise<boolean> {
  const has = async (sha: string) =>
    (await runGitText(['cat-file', '-e', `${sha}^{commit}`], { cwd: rigDir, okCodes: [0, 1, 128] })).exitCode === 0;
  if (!(await has(now))) await fetchBranches(rigDir, remote).catch(() => undefined);
  if (!(await has(now)) || !(await has(was))) return true; // cannot tell: not reported
  return (await runGitText(['merge-base', '--is-ancestor', was, now], { cwd: rigDir, okCodes: [0, 1] })).exitCode === 0;
}
