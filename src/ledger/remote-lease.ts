/**
 * A lease held on a git remote: one ref whose commit message is `{holder, expiresAt}`,
 * taken and moved only by compare-and-swap on the remote (`git push --atomic
 * --force-with-lease=<ref>:<expected>`; an empty expectation creates the ref only if it is
 * absent). Several processes that share the remote and nothing else (app replicas on other
 * machines) thereby agree on one holder at a time; a holder that dies stops renewing, and
 * once its expiry has passed the next taker replaces it, again by compare-and-swap.
 *
 * The ref lives beside the ledger's namespace, never inside it (`refs/gastown/` →
 * `refs/gastown-leases/<name>`), so ledger sync neither fetches nor merges it.
 */
import { GastownError } from '../errors.js';
import { encodeCommit, type ObjectWriter } from './git-objects.js';
import { packBytes } from './pack-writer.js';
import { readPack } from './read-pack.js';
import { SmartHttp } from './smart-http.js';
import { openObjectWriter } from './open-object-writer.js';
import { redact, runGit } from './run-git.js';

export interface LeaseValue {
  holder: string;
  /** ISO time after which anyone may take the lease over. */
  expiresAt: string;
}

export interface RemoteLeaseTarget {
  /** A git directory holding the lease's objects (a bare mirror is fine). */
  gitDir: string;
  /** The remote URL for one git call (it may carry a token: asked for each time, never stored). */
  url(): Promise<string>;
  /** The full ref name on the remote, e.g. from `leaseRefFor`. */
  ref: string;
  /**
   * Writes the lease's commit into `gitDir` in-process (as ledger commits are), so a swap
   * costs one git process, its push. Whoever keeps `gitDir` keeps it (open-object-writer.ts);
   * without it each swap finds the object store anew (one `rev-parse` more).
   */
  objects?: ObjectWriter;
  /**
   * Reads and swaps over smart HTTP in-process when the URL is http(s) (smart-http.ts): a
   * take or a give-back is then one request and no git process. Whatever it cannot do, git does.
   */
  http?: SmartHttp;
}

/** `refs/gastown/` → `refs/gastown-leases/<name>`; `refs/heads/gastown-ledger/` → `refs/heads/gastown-ledger-leases/<name>`. */
export function leaseRefFor(ledgerPrefix: string, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.') || name.endsWith('.lock'))
    throw new GastownError('gastown_bad_input', `not a lease name: ${JSON.stringify(name)}`);
  return `${ledgerPrefix.replace(/\/+$/, '')}-leases/${name}`;
}

/** The lease as the remote holds it now: its commit and value (null when there is none). */
export async function readRemoteLease(target: RemoteLeaseTarget): Promise<{ oid: string; value: LeaseValue | null } | null> {
  const url = await target.url();
  if (target.http && SmartHttp.speaks(url)) {
    const read = await readOverHttp(target.http, url, target.ref);
    if (read !== undefined) return read;
  }
  // One round trip: fetch the ref (and its tiny commit) into the same name locally.
  const fetched = await runGit(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, `+${target.ref}:${target.ref}`], {
    cwd: target.gitDir,
    okCodes: [1, 128],
  });
  if (fetched.code !== 0) {
    if (/couldn't find remote ref/i.test(fetched.stderr)) return null;
    throw new GastownError('gastown_sync', `cannot read the lease ${target.ref}: ${firstLine(fetched.stderr)}`, { ref: target.ref });
  }
  const shown = await runGit(['log', '-1', '--format=%H%n%B', target.ref, '--'], { cwd: target.gitDir, okCodes: [128] });
  // Given back (deleted) between the fetch and this read, by its holder working in the same
  // repository (a test reading the remote itself): no lease, as if the fetch had found none.
  if (shown.code !== 0) {
    if (/bad revision|unknown revision/i.test(shown.stderr)) return null;
    throw new GastownError('gastown_sync', `cannot read the lease ${target.ref}: ${firstLine(shown.stderr)}`, { ref: target.ref });
  }
  const [oid, ...message] = shown.stdout.toString('utf8').split('\n');
  return { oid: oid!.trim(), value: parseLease(message.join('\n')) };
}

/** The lease read in-process: null when there is none, undefined when git must read it. */
async function readOverHttp(
  http: SmartHttp,
  url: string,
  ref: string,
): Promise<{ oid: string; value: LeaseValue | null } | null | undefined> {
  const refs = await http.lsRefs(url, [ref]);
  if (!refs) return undefined;
  const oid = refs.get(ref);
  if (!oid) return null;
  const pack = await http.fetchPack(url, [oid], []);
  if (!pack) return undefined;
  try {
    const commit = readPack(pack, oid.length === 40 ? 'sha1' : 'sha256').find((o) => o.oid === oid && o.type === 'commit');
    if (!commit) return undefined;
    const text = commit.content.toString('utf8');
    return { oid, value: parseLease(text.slice(text.indexOf('\n\n') + 2)) };
  } catch {
    return undefined;
  }
}

/** A lease value from its commit message; null for anything else (which counts as expired). */
export function parseLease(message: string): LeaseValue | null {
  try {
    const v = JSON.parse(message.trim()) as Partial<LeaseValue>;
    if (typeof v.holder === 'string' && typeof v.expiresAt === 'string' && Number.isFinite(Date.parse(v.expiresAt)))
      return { holder: v.holder, expiresAt: v.expiresAt };
  } catch {
    // Not ours: a ref someone wrote by hand.
  }
  return null;
}

const LOST_RACE = /cannot lock ref|failed to update ref|incorrect old value|but expected|reference already exists/i;

const LEASE_AUTHOR = { name: 'gastown', email: 'gastown@localhost' };

/**
 * Moves the lease from `expected` (a commit id, or null for "absent") to `value`, or to
 * nothing (`value` null: released). True when the remote took it; false when the remote no
 * longer held `expected` (someone else moved it first). Other failures throw.
 */
export async function swapRemoteLease(
  target: RemoteLeaseTarget,
  expected: string | null,
  value: LeaseValue | null,
): Promise<string | false> {
  let source = '';
  let objects: { type: 'tree' | 'commit'; content: Buffer }[] = [];
  if (value !== null) {
    const writer = target.objects ?? (await openObjectWriter(target.gitDir));
    const signature = { ...LEASE_AUTHOR, time: Math.floor(Date.now() / 1000) };
    const commit = {
      tree: writer.writeTree([]),
      parents: [],
      author: signature,
      committer: signature,
      message: `${JSON.stringify(value)}\n`,
    };
    source = writer.writeCommit(commit);
    objects = [
      { type: 'tree', content: Buffer.alloc(0) },
      { type: 'commit', content: Buffer.from(encodeCommit(commit), 'utf8') },
    ];
  }
  const url = await target.url();
  if (target.http && SmartHttp.speaks(url)) {
    const zero = '0'.repeat((source || expected || '').length);
    const report = zero
      ? await target.http.receivePack(
          url,
          [{ ref: target.ref, old: expected, new: source || null }],
          objects.length ? packBytes(objects, zero.length === 40 ? 'sha1' : 'sha256') : null,
          zero,
          false,
        )
      : null;
    const status = report?.statuses.get(target.ref);
    if (status?.ok) return value === null ? '' : source;
    if (status && LOST_RACE.test(status.why)) return false;
    if (status)
      throw new GastownError('gastown_sync', `cannot move the lease ${target.ref}: ${firstLine(status.why)}`, { ref: target.ref });
  }
  const pushed = await runGit(
    ['push', '--quiet', '--porcelain', '--atomic', `--force-with-lease=${target.ref}:${expected ?? ''}`, url, `${source}:${target.ref}`],
    { cwd: target.gitDir, okCodes: [1] },
  );
  if (pushed.code === 0) return value === null ? '' : source;
  const out = pushed.stdout.toString('utf8');
  // Refused because the ref is not what we expected: by our git before sending (stale info),
  // or by the remote's own check under its lock (another push landed in between).
  if (/\[rejected\]|stale info/i.test(out) || LOST_RACE.test(`${out}\n${pushed.stderr}`)) return false;
  throw new GastownError('gastown_sync', `cannot move the lease ${target.ref}: ${firstLine(pushed.stderr || out)}`, { ref: target.ref });
}

function firstLine(s: string): string {
  return redact(
    s
      .trim()
      .split('\n')
      .find((l) => l.trim() && !l.startsWith('hint:')) ?? 'no output',
  );
}
