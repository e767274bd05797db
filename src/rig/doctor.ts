import { runGit } from '../ledger/run-git.js';
import { redact } from '../ledger/run-git.js';
import { findBrokenRefs, repairBrokenRefs } from '../ledger/ref-health.js';
import { Ledger } from '../ledger/ledger.js';
import { TOWN_CHAIN_KINDS, TOWN_DOC_KINDS, TOWN_LEDGER, type TownChainKind, type TownDocKind } from './town-kinds.js';
import { remoteDefaultBranch } from './first-use.js';
import { repoLedgerPrefix } from './repo-ledger-prefix.js';
import { checkDependents, rebuildDependents, type IndexProblem } from './dependents.js';
import type { Rig } from './rig.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Passes, but worth a look (printed as `warn`). */
  warn?: boolean;
}

/** Health checks for a rig: git version, ledger integrity, stale locks, the remote, the default branch. */
export async function doctor(rig: Rig, opts: { fix?: boolean } = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const version = (await runGit(['--version'], { cwd: rig.repoDir })).stdout.toString().trim();
  const m = /(\d+)\.(\d+)/.exec(version);
  const okVersion = !!m && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 36));
  checks.push({
    name: 'git version',
    ok: okVersion,
    detail: okVersion ? version : `${version}: git 2.36 or newer is needed (cat-file --batch-command)`,
  });

  // Every ledger ref must point at a commit: an emptied or cut-short ref file (git skips
  // those silently) or one naming a missing object is named, and --fix puts it back.
  const broken = await findBrokenRefs(rig.ledger);
  if (opts.fix && broken.length) {
    const repairs = await repairBrokenRefs(rig.ledger, broken);
    const lost = repairs.filter((r) => !r.oid);
    checks.push({
      name: 'ledger refs',
      ok: lost.length === 0,
      detail: [
        ...repairs.filter((r) => r.oid).map((r) => `restored ${r.ref} to ${r.oid!.slice(0, 12)} (from the ${r.source})`),
        ...lost.map((r) => `could not restore ${r.ref}: no earlier version found (reflog, last synced copy, list cache, history)`),
      ].join('; '),
    });
  } else {
    const refs = await rig.ledger.refs('');
    checks.push({
      name: 'ledger refs',
      ok: broken.length === 0,
      detail: broken.length
        ? `broken (run gt doctor --fix): ${broken
            .slice(0, 20)
            .map((b) => `${b.ref} (${b.problem})`)
            .join(', ')}${broken.length > 20 ? ` and ${broken.length - 20} more` : ''}`
        : `${refs.size} refs, all readable`,
    });
  }

  const invalid = await invalidEntities(rig);
  if (opts.fix && invalid.length) {
    const restored = await restoreEntities(rig, invalid);
    const left = restored.filter((r) => !r.restored);
    checks.push({
      name: 'ledger entities',
      ok: left.length === 0,
      detail: restored
        .map((r) =>
          r.restored ? `restored ${r.ref} to its last good version (${r.restored.slice(0, 12)})` : `could not restore ${r.ref}: ${r.why}`,
        )
        .join('; '),
    });
  } else
    checks.push({
      name: 'ledger entities',
      ok: invalid.length === 0,
      detail: invalid.length
        ? `${invalid.length} do not validate (commands skip them; gt doctor --fix restores their last good version): ${invalid.map((s) => `${s.ref} (${s.problem})`).join('; ')}`
        : 'every entity validates',
    });

  checks.push(await dependentsCheck(rig, !!opts.fix));

  // Locks: a dead writer's are recovered (its transaction finished or undone); one that
  // names no owner (git's) is removed by --fix only once older than the stale age.
  if (opts.fix) {
    const { recovered, removed, left } = await rig.ledger.clearLocks();
    const finished = recovered.rolledForward + recovered.discarded;
    checks.push({
      name: 'stale locks',
      ok: left.length === 0,
      detail: [
        removed.length ? `removed: ${removed.join(', ')}` : 'none to remove',
        finished ? `finished ${finished} interrupted transactions` : '',
        left.length ? `still held by running writers: ${left.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    });
  } else {
    const locks = rig.ledger.locks(0).filter((l) => l.state === 'dead' || l.ageMs > (l.state === 'foreign' ? 1_000 : 60_000));
    checks.push({
      name: 'stale locks',
      ok: locks.length === 0,
      detail: locks.length
        ? `found (run gt doctor --fix): ${locks.map((l) => `${l.path} (${l.state === 'dead' ? 'its writer is dead' : l.state === 'foreign' ? 'names no gastown writer' : 'held for over a minute'})`).join(', ')}`
        : 'none',
    });
  }

  if (rig.settings.remote) {
    const remote = rig.settings.remote;
    const reach = await runGit(['ls-remote', '--heads', remote], { cwd: rig.repoDir }).then(
      () => ({ ok: true, detail: `${redact(remote)} reachable` }),
      (e: Error) => ({ ok: false, detail: `${redact(remote)}: ${e.message}` }),
    );
    checks.push({ name: 'remote', ...reach });
  } else checks.push({ name: 'remote', ok: true, detail: 'none configured (gt init --remote <url> to sync)' });
  checks.push(await defaultBranchCheck(rig));
  checks.push(prefixCheck(rig));
  return checks;
}

/**
 * Every entity and chain entry reads would leave out, read on a separate ledger handle so
 * nothing is reported twice through the rig's own warnings.
 */
async function invalidEntities(rig: Rig): Promise<{ ref: string; problem: string }[]> {
  const ledger = await Ledger.open<TownDocKind, TownChainKind>({
    repoDir: rig.repoDir,
    gitDir: rig.gitDir,
    prefix: rig.ledger.prefix,
    ...TOWN_LEDGER,
  });
  try {
    for (const kind of TOWN_DOC_KINDS) await ledger.list(kind);
    for (const chain of TOWN_CHAIN_KINDS) await ledger.readChain(chain, null);
    return ledger.skipped.map(({ ref, problem }) => ({ ref, problem }));
  } finally {
    ledger.close();
  }
}

/**
 * Puts each entity that does not validate back to its newest version that does, as a new
 * commit on top of the bad one (history is kept, nothing is rewritten; compare-and-swap, so
 * a concurrent write wins). A bad entry of a chain (mail, feed) stays in its history, where
 * reads skip it.
 */
async function restoreEntities(rig: Rig, invalid: { ref: string }[]): Promise<{ ref: string; restored: string | null; why?: string }[]> {
  const ledger = await Ledger.open<TownDocKind, TownChainKind>({
    repoDir: rig.repoDir,
    gitDir: rig.gitDir,
    prefix: rig.ledger.prefix,
    ...TOWN_LEDGER,
  });
  try {
    const out: { ref: string; restored: string | null; why?: string }[] = [];
    for (const { ref } of new Map(invalid.map((i) => [i.ref, i])).values()) {
      const [kind, ...rest] = ref.slice(ledger.prefix.length).split('/');
      const id = rest.join('/');
      if (!TOWN_DOC_KINDS.includes(kind as TownDocKind)) {
        out.push({ ref, restored: null, why: 'an entry of a chain stays in its history (reads skip it)' });
        continue;
      }
      const tip = (await ledger.refs(`${kind}/`)).get(ref) ?? null;
      const good = tip ? (await ledger.history(kind as TownDocKind, id)).find((e) => e.oid !== tip) : undefined;
      if (!tip || !good) {
        out.push({ ref, restored: null, why: 'no earlier version validates' });
        continue;
      }
      const oid = ledger.writeValueCommit(kind!, good.value, [tip], `restore ${kind}/${id} (gt doctor --fix)`, 'gastown-doctor');
      out.push(
        (await ledger.setRefs([{ ref, newOid: oid, oldOid: tip }]))
          ? { ref, restored: oid }
          : { ref, restored: null, why: 'it changed meanwhile' },
      );
    }
    return out;
  } finally {
    ledger.close();
  }
}

/**
 * The dependents index (rig/dependents.ts) against the edges it is derived from. A wrong
 * index fails the check; beads written before the index existed only slow `gt bead show`
 * down (it scans for them), so they are named without failing. --fix rebuilds both.
 */
async function dependentsCheck(rig: Rig, fix: boolean): Promise<DoctorCheck> {
  const name = 'dependents index';
  const describe = (w: IndexProblem) =>
    `${w.bead}${w.missing.length ? ` misses ${w.missing.join(', ')}` : ''}${w.extra.length ? ` lists ${w.extra.join(', ')} (not waiting on it)` : ''}`;
  let rebuilt = 0;
  if (fix) rebuilt = await rebuildDependents(rig);
  // Thousands of rewritten beads leave as many loose refs, which slow every listing.
  if (rebuilt >= 1000) await runGit(['pack-refs', '--all'], { cwd: rig.repoDir }).catch(() => undefined);
  const { wrong, unindexed, beads } = await checkDependents(rig);
  const done = fix && rebuilt ? `rebuilt the index of ${rebuilt} beads; ` : '';
  if (wrong.length)
    return {
      name,
      ok: false,
      detail: `${done}${wrong.length} wrong (run gt doctor --fix): ${wrong.slice(0, 20).map(describe).join('; ')}${wrong.length > 20 ? ` and ${wrong.length - 20} more` : ''}`,
    };
  if (unindexed.length)
    return {
      name,
      ok: true,
      detail: `${done}${unindexed.length} of ${beads} beads predate the index (gt bead show scans for them; gt doctor --fix builds it)`,
    };
  return { name, ok: true, detail: `${done}matches the edges of ${beads} beads` };
}

/** A prefix given with `gt init --prefix` that is not the repository's puts the CLI on another ledger than the app. */
function prefixCheck(rig: Rig): DoctorCheck {
  const { prefix, prefixFrom } = rig.settings;
  const repo = prefixFrom === 'option' ? repoLedgerPrefix(rig.repoDir) : null;
  if (repo !== null && repo !== prefix)
    return {
      name: 'ledger prefix',
      ok: false,
      detail: `${prefix} (gt init --prefix), but .github/gastown.yml gives the app ${repo}: the app works on another ledger`,
    };
  return {
    name: 'ledger prefix',
    ok: true,
    detail: `${prefix}${prefixFrom === 'repo-config' ? ' (ledgerPrefix of .github/gastown.yml)' : prefixFrom === 'option' ? ' (gt init --prefix)' : ''}`,
  };
}

/** The default branch must exist where polecats start from it and the Refinery pushes it. */
async function defaultBranchCheck(rig: Rig): Promise<DoctorCheck> {
  const { remote, defaultBranch: branch } = rig.settings;
  const name = 'default branch';
  const fix = (head: string | null) =>
    head ? `: the default is ${head} (gt init --default-branch ${head})` : ' (gt init --default-branch <name>)';
  if (!remote) {
    const local = await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: rig.repoDir, okCodes: [1, 128] });
    return local.code === 0
      ? { name, ok: true, detail: branch }
      : { name, ok: false, detail: `no branch ${branch} here (gt init --default-branch <name>)` };
  }
  const listed = await runGit(['ls-remote', '--heads', remote], { cwd: rig.repoDir }).catch(() => null);
  if (!listed) return { name, ok: false, detail: `${branch}: ${redact(remote)} could not be reached` };
  const heads = listed.stdout
    .toString()
    .split('\n')
    .map((l) => l.split('\t')[1])
    .filter(Boolean);
  if (heads.length === 0) return { name, ok: true, detail: `${branch} (the remote has no branches yet)` };
  const head = await remoteDefaultBranch(rig.repoDir, remote);
  if (!heads.includes(`refs/heads/${branch}`)) return { name, ok: false, detail: `${redact(remote)} has no branch ${branch}${fix(head)}` };
  return { name, ok: true, detail: head && head !== branch ? `${branch} (the remote's HEAD is ${head})` : branch };
}
