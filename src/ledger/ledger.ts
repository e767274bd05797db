import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { CatFile, type GitObject } from './cat-file.js';
import { decodeMessage, encodeMessage } from './entity-codec.js';
import { EntityKinds } from './entity-kinds.js';
import { encodeCommit, ObjectWriter, parseCommit, treeBody, type HashAlgo, type Signature } from './git-objects.js';
import { PackWriter } from './pack-writer.js';
import { Journal } from './journal.js';
import { OwnerFile, processStart } from './lock-owner.js';
import { lockIdentity, Recovery, type RecoveryResult } from './recovery.js';
import { randomHex } from '../random-hex.js';
import { RefUpdater, type RefUpdate, type TransactionResult } from './ref-updater.js';
import { RefFiles } from './ref-files.js';
import { listRefFiles } from './list-ref-files.js';
import { ObjectReader } from './object-reader.js';
import { runGit } from './run-git.js';
import { ListCache } from './list-cache.js';
import { kindOfSummary, LOG_FORMAT, parseLog, safeDecode, SOURCE_LOG_FORMAT } from './parse-log.js';
import { refPrefixProblem } from './ref-prefix.js';
import { readWriterId } from './writer-id.js';
import { findLocks, type FoundLock } from './stale-locks.js';
import { isTombstone, TOMBSTONE } from './tombstone.js';

export type { EntityKind } from './entity-kinds.js';
export type {
  ChainEntry,
  EntityValidator,
  HistoryEntry,
  LedgerOptions,
  SkippedEntity,
  Transaction,
  Versioned,
  WriteOptions,
} from './ledger-types.js';
import type {
  ChainEntry,
  EntityValidator,
  HistoryEntry,
  LedgerOptions,
  SkippedEntity,
  Transaction,
  Versioned,
  WriteOptions,
} from './ledger-types.js';

/** A commit's value, or why it has none that can be used. */
type Decoded = { value: unknown; problem?: undefined } | { problem: string };

interface PendingWrite {
  ref: string;
  kind: string;
  oldOid: string | null;
  value: unknown;
  delete: boolean;
  summary: string;
  /** Append (chain) writes keep the old tip as parent; doc writes too; kinds whose history is replaced do not. */
  keepHistory: boolean;
}

export const DEFAULT_PREFIX = 'refs/gastown/';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The git-refs store. One ref per entity (`<prefix><kind>/<id>`), each pointing at a commit
 * whose tree and message hold the entity's JSON; history is the commit chain. All writes
 * are compare-and-swap: small ones straight on the ref files with git's own lock protocol,
 * others (bulk) through one long-lived `update-ref --stdin`; a delete writes a tombstone
 * (tombstone.ts). Single reads come straight from `.git` when they can, other reads through
 * one long-lived `cat-file`; listing reads the ref files (or one `for-each-ref`) plus a cache
 * keyed by commit id.
 */
/**
 * `D` and `C` name the document and chain kinds the owner declared (the rig: its town
 * kinds), so a misspelt kind is a type error; the ledger itself treats them as strings.
 */
export class Ledger<D extends string = string, C extends string = string> {
  readonly prefix: string;
  readonly repoDir: string;
  readonly gitDir: string;
  readonly zeroOid: string;
  readonly writerId: string;
  private readonly catFile: CatFile;
  private readonly updater: RefUpdater;
  /** Null when refs are not plain files (reftable) or a test asks for git alone. */
  private readonly refFiles: RefFiles | null;
  /** The ref files whenever refs are plain files (for recovery and repair), whatever the write path. */
  private readonly refStore: RefFiles | null;
  private readonly reader: ObjectReader;
  private readonly objects: ObjectWriter;
  private readonly journal: Journal;
  private readonly owner: OwnerFile;
  private readonly recovery: Recovery;
  private readonly lockTimeoutMs: number;
  private readonly cache: ListCache;
  private readonly now: () => Date;
  private readonly staleLockMs: number;
  private readonly maxRetries: number;
  private readonly algo: HashAlgo;
  private readonly validators: Partial<Record<string, EntityValidator>>;
  #writes = 0;
  /** What each kind is (file, document or chain, history kept or replaced), as its owner declared. */
  readonly kinds: EntityKinds;
  private readonly onInvalid: ((ref: string, problem: string) => void) | undefined;
  /** Entities (and chain entries) reads left out since this ledger was opened, each once. */
  readonly skipped: SkippedEntity[] = [];
  private readonly reported = new Set<string>();
  private emptyTreeOid: string | null = null;

  private constructor(opts: LedgerOptions, repoDir: string, gitDir: string, algo: HashAlgo, config: string) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.repoDir = repoDir;
    this.gitDir = gitDir;
    this.now = opts.now ?? (() => new Date());
    this.staleLockMs = opts.staleLockMs ?? 10_000;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 200;
    this.algo = algo;
    this.validators = opts.validators ?? {};
    this.kinds = new EntityKinds(opts.kinds);
    this.onInvalid = opts.onInvalid;
    this.zeroOid = '0'.repeat(algo === 'sha1' ? 40 : 64);
    this.catFile = new CatFile(repoDir);
    this.updater = new RefUpdater(repoDir, this.zeroOid);
    this.objects = new ObjectWriter(join(gitDir, 'objects'), algo);
    this.reader = new ObjectReader(join(gitDir, 'objects'), algo === 'sha1' ? 20 : 32);
    // A reference-transaction hook must see every ref change: then git makes them all.
    const hooksDir = /^\s*hookspath\s*=\s*(.+?)\s*$/im.exec(config)?.[1] ?? join(gitDir, 'hooks');
    const direct = (opts.directRefs ?? true) && !existsSync(resolve(repoDir, hooksDir, 'reference-transaction'));
    const gastownDir = join(gitDir, 'gastown');
    this.owner = new OwnerFile(join(gastownDir, 'owners'), randomHex(4));
    this.journal = new Journal(gastownDir);
    // Recovery and repair write ref files whenever refs are files, even where writes go
    // through git (a hook, or a test): a transaction another process began on the ref
    // files must still be finished here.
    const refStore = RefFiles.supports(config) ? new RefFiles(gitDir, this.zeroOid.length, this.owner, this.journal) : null;
    this.refStore = refStore;
    this.refFiles = direct ? refStore : null;
    this.recovery = new Recovery(gitDir, this.owner, this.journal, join(gastownDir, 'owners'), this.staleLockMs, {
      place: refStore ? (ref, oid) => refStore.place(ref, oid) : null,
      readRef: (ref) => this.tip(ref),
      gitTransaction: (updates) => this.updater.transaction(updates),
    });
    this.cache = new ListCache(join(gitDir, 'gastown', 'cache'));
    this.writerId = readWriterId(gitDir);
  }

  /** Opens the ledger of the repository containing `repoDir`, finishing any transaction a killed writer left. */
  static async open<D extends string = string, C extends string = string>(opts: LedgerOptions): Promise<Ledger<D, C>> {
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    const bad = refPrefixProblem(prefix);
    if (bad) throw new GastownError('gastown_config', `bad ledger prefix ${JSON.stringify(prefix)}: ${bad}`);
    if (opts.gitDir) {
      const config = readFileIfAny(join(opts.gitDir, 'config'));
      const algo: HashAlgo = /objectformat\s*=\s*sha256/i.test(config) ? 'sha256' : 'sha1';
      const ledger = new Ledger<D, C>(opts, opts.repoDir, opts.gitDir, algo, config);
      await ledger.recover();
      return ledger;
    }
    let out: string;
    try {
      out = (
        await runGit(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-object-format'], { cwd: opts.repoDir })
      ).stdout.toString('utf8');
    } catch (e) {
      throw new GastownError('gastown_not_a_rig', `${opts.repoDir} is not inside a git repository`, undefined, { cause: e });
    }
    const [commonDir, format] = out.trim().split('\n');
    if (!commonDir) throw new GastownError('gastown_not_a_rig', `${opts.repoDir} is not inside a git repository`);
    const gitDir = isAbsolute(commonDir) ? commonDir : resolve(opts.repoDir, commonDir);
    const ledger = new Ledger<D, C>(
      opts,
      opts.repoDir,
      gitDir,
      format === 'sha256' ? 'sha256' : 'sha1',
      readFileIfAny(join(gitDir, 'config')),
    );
    await ledger.recover();
    return ledger;
  }

  /**
   * Ref transactions this process has committed on this ledger: a caller that compares the
   * count before and after some work knows whether that work wrote anything.
   */
  get writes(): number {
    return this.#writes;
  }

  close(): void {
    this.catFile.close();
    this.updater.close();
    this.owner.remove();
  }

  /** What is wrong with `value` as an entity of `kind`, or null when it is good (or the kind has no check). */
  problemWith(kind: string, value: unknown): string | null {
    const check = this.validators[kind];
    return check ? check(value) : null;
  }

  ref(kind: string, id: string): string {
    if (!NAME_RE.test(id)) throw new GastownError('gastown_bad_input', `bad ${kind} name ${JSON.stringify(id)}`);
    return `${this.prefix}${kind}/${id}`;
  }

  // ---------------------------------------------------------------- reads

  /**
   * The current value of one entity, or null when it does not exist (or was deleted). An
   * entity whose value cannot be read or fails its kind's check throws
   * `gastown_corrupt_entity` (naming its ref).
   */
  async get<T>(kind: D, id: string): Promise<Versioned<T> | null> {
    const v = await this.current<T>(kind, id);
    return v && !isTombstone(v.value) ? v : null;
  }

  /** The version a ref points at, tombstones included (a compare-and-swap must expect those too). */
  private async current<T>(kind: D, id: string): Promise<Versioned<T> | null> {
    const ref = this.ref(kind, id);
    const oid = await this.tip(ref);
    const obj = oid ? await this.object(oid) : null;
    if (!obj || obj.type !== 'commit') return null;
    const d = await this.decode(kind, obj.oid, obj.content);
    if (d.problem !== undefined)
      throw new GastownError('gastown_corrupt_entity', `${ref} is corrupt: ${d.problem} (run gt doctor)`, {
        ref,
        oid: obj.oid,
        problem: d.problem,
      });
    return { id, oid: obj.oid, value: d.value as T };
  }

  /** Several entities in one pipelined round trip; missing ones are left out, and so are bad ones (reported). */
  async getMany<T>(kind: D, ids: string[]): Promise<Versioned<T>[]> {
    // A few are read straight from the files (a sync's repairs read the two or three beads it
    // took): starting `git cat-file` costs more than that.
    const objs =
      ids.length <= FEW && this.refFiles
        ? await Promise.all(
            ids.map(async (id) => {
              const oid = await this.tip(this.ref(kind, id));
              return oid ? this.object(oid) : null;
            }),
          )
        : await this.catFile.readMany(ids.map((id) => this.ref(kind, id)));
    const found = objs.flatMap((o, i) => (o && o.type === 'commit' ? [{ id: ids[i]!, o }] : []));
    const decoded = await Promise.all(found.map(({ o }) => this.decode(kind, o.oid, o.content)));
    return found.flatMap(({ id, o }, i) => {
      const d = decoded[i]!;
      if (d.problem === undefined) return isTombstone(d.value) ? [] : [{ id, oid: o.oid, value: d.value as T }];
      this.report(this.ref(kind, id), o.oid, d.problem);
      return [];
    });
  }

  /**
   * Ref name → commit id for every ref under `<prefix><sub>` (`sub` is '' or ends with '/'),
   * sorted by name: read from the ref files when refs are plain files, else one `for-each-ref`.
   */
  async refs(sub = ''): Promise<Map<string, string>> {
    return this.refsUnder(`${this.prefix}${sub}`);
  }

  /**
   * Ref name → commit id for every ref under a full prefix ending with '/' (sync's tracking
   * refs live outside the ledger's prefix). No git process when refs are plain files: a
   * listing was the one process most commands started (every sync, every list of a kind).
   */
  async refsUnder(prefix: string): Promise<Map<string, string>> {
    const direct = this.refFiles ? listRefFiles(this.gitDir, prefix, this.zeroOid.length) : undefined;
    if (direct) return direct;
    const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', prefix], {
      cwd: this.repoDir,
    });
    const map = new Map<string, string>();
    for (const line of stdout.toString('utf8').split('\n')) {
      if (!line) continue;
      const sp = line.indexOf(' ');
      map.set(line.slice(sp + 1), line.slice(0, sp));
    }
    return map;
  }

  /**
   * Whether a ref exists for this entity, a tombstone included (ids of deleted entities stay
   * taken). Straight from the ref files when it can: no git process, no listing.
   */
  async exists(kind: D, id: string): Promise<boolean> {
    return (await this.tip(this.ref(kind, id))) !== null;
  }

  /**
   * How many refs lie under `<prefix><sub>` (tombstones included), without listing them
   * when refs are plain files: the lines of `packed-refs` in that range plus the loose ref
   * files not also packed. An estimate a caller may size things by (id lengths), not a
   * snapshot: it can be off by writes that land while it counts. `sub` is a kind (`beads/`):
   * loose refs are counted one directory deep.
   */
  async countRefs(sub: string): Promise<number> {
    const counted = this.refFiles?.count(`${this.prefix}${sub}`);
    return counted ?? (await this.refs(sub)).size;
  }

  /**
   * Every entity of a kind. Unchanged entities come from a local cache keyed by commit id.
   * An entity whose value cannot be read or fails its check is left out (and reported); the
   * cache holds only good values, so a bad one is looked at again next time.
   */
  async list<T>(kind: D): Promise<Versioned<T>[]> {
    const refs = await this.refs(`${kind}/`);
    const base = `${this.prefix}${kind}/`;
    const cached = this.cache.load(this.prefix, kind);
    const out: Versioned<T>[] = [];
    const missing: { id: string; oid: string }[] = [];
    for (const [ref, oid] of refs) {
      const id = ref.slice(base.length);
      const hit = cached.get(id);
      if (hit && hit.oid === oid) out.push({ id, oid, value: hit.value as T });
      else missing.push({ id, oid });
    }
    const hits = out.length;
    if (missing.length) {
      const objs = await this.catFile.readMany(missing.map((m) => m.oid));
      const decoded = await Promise.all(
        objs.map(
          (o, i): Promise<Decoded> =>
            o && o.type === 'commit'
              ? this.decode(kind, missing[i]!.oid, o.content)
              : Promise.resolve({ problem: `${missing[i]!.oid} is not a commit` }),
        ),
      );
      decoded.forEach((d, i) => {
        const { id, oid } = missing[i]!;
        if (d.problem === undefined) out.push({ id, oid, value: d.value as T });
        else this.report(`${base}${id}`, oid, d.problem);
      });
    }
    if (out.length > hits || cached.size !== hits) this.cache.save(this.prefix, kind, out);
    return out.filter((v) => !isTombstone(v.value));
  }

  /** Names of the chains of a kind (e.g. every inbox). */
  async chains(chain: C): Promise<string[]> {
    const refs = await this.refs(`${chain}/`);
    const base = `${this.prefix}${chain}/`;
    return [...refs.keys()].map((r) => r.slice(base.length));
  }

  /**
   * Entries of one chain (or every chain of the kind when name is null), oldest first,
   * read with one `git log`. Merge commits made by sync carry no entry and are skipped.
   */
  async readChain<T>(chain: C, name: string | null, opts: { since?: Date } = {}): Promise<ChainEntry<T>[]> {
    const args = ['log', SOURCE_LOG_FORMAT, '--reverse', '--date-order'];
    if (opts.since) args.push(`--since=${Math.floor(opts.since.getTime() / 1000)}`);
    if (name === null) args.push(`--glob=${this.prefix}${chain}/*`);
    else {
      const ref = this.ref(chain, name);
      const exists = await this.catFile.read(ref);
      if (!exists) return [];
      args.push(ref);
    }
    args.push('--source', '--');
    const { stdout } = await runGit(args, { cwd: this.repoDir });
    const entries = parseLog<T>(stdout.toString('utf8'), true).filter((e) => e.parents.length <= 1);
    const good = await this.checkEntries(
      entries,
      () => chain,
      (e) => e.source || (name === null ? `${this.prefix}${chain}/*` : this.ref(chain, name)),
    );
    return good.map((e) => ({ oid: e.oid, value: e.value, time: e.time, actor: e.actor }));
  }

  /** Every version of one entity, newest first: its trail. */
  async history<T>(kind: D, id: string): Promise<HistoryEntry<T>[]> {
    const ref = this.ref(kind, id);
    if (!(await this.catFile.read(ref))) return [];
    const { stdout } = await runGit(['log', LOG_FORMAT, ref, '--'], { cwd: this.repoDir });
    return (
      await this.checkEntries(
        parseLog<T>(stdout.toString('utf8')),
        () => kind,
        () => ref,
      )
    ).map(historyEntry);
  }

  /** Recent versions across kinds (one `git log` over their refs), newest first. */
  async trail<T>(kinds: D[], opts: { since?: Date; limit?: number } = {}): Promise<(HistoryEntry<T> & { kind: D })[]> {
    const args = ['log', SOURCE_LOG_FORMAT, '--date-order'];
    if (opts.since) args.push(`--since=${Math.floor(opts.since.getTime() / 1000)}`);
    if (opts.limit) args.push(`-n${opts.limit}`);
    for (const k of kinds) args.push(`--glob=${this.prefix}${k}/*`);
    args.push('--source', '--');
    const { stdout } = await runGit(args, { cwd: this.repoDir });
    const kindOf = (e: { source?: string; summary: string }): D => {
      const fromRef = e.source?.startsWith(this.prefix) ? (e.source.slice(this.prefix.length).split('/')[0] as D) : null;
      return fromRef && kinds.includes(fromRef) ? fromRef : kindOfSummary(e.summary, kinds);
    };
    const entries = parseLog<T>(stdout.toString('utf8'), true);
    const good = await this.checkEntries(entries, kindOf, (e) => e.source || `${this.prefix}${kindOf(e)}/*`);
    return good.map((e) => ({ ...historyEntry(e), kind: kindOf(e) }));
  }

  /**
   * The current value of each ref (null: no such ref), read one by one from the ref files
   * when refs are plain files: for a few refs this costs less than listing every ref.
   */
  async tips(refs: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const ref of refs) out.set(ref, await this.tip(ref));
    return out;
  }

  /** The ref store's directory when refs are plain files (loose files and packed-refs), else null (reftable). */
  get refFilesDir(): string | null {
    return this.refStore ? this.gitDir : null;
  }

  /**
   * Writes a commit with an empty tree whose message carries `value` (sync's per-writer
   * summary commits); not on any ref until the caller puts it there.
   */
  writeNoteCommit(value: unknown, parents: string[], summary: string, actor: string): string {
    const sig = this.signature(actor);
    return this.objects.writeCommit({
      tree: this.emptyTree(),
      parents,
      author: sig,
      committer: sig,
      message: encodeMessage(summary, value),
    });
  }

  /** Reads one commit by id (sync uses this to walk history). */
  async readCommit(oid: string, kind?: string): Promise<{ parents: string[]; time: number; actor: string; value: unknown } | null> {
    // Straight from the object files when it can (a sync that fetched a few refs reads their
    // new commits, loose after a small fetch): no `git cat-file` process started for them.
    const obj = await this.object(oid);
    if (!obj || obj.type !== 'commit') return null;
    const c = parseCommit(obj.content);
    const value = kind ? await this.valueOf(kind, oid, obj.content).catch(() => null) : safeDecode(c.message);
    return { parents: c.parents, time: c.time, actor: c.authorName, value };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Runs `fn` and commits everything it wrote as one compare-and-swap transaction. When
   * another writer got there first the whole function runs again on fresh reads, so `fn`
   * must be free of outside effects. Never overwrites a concurrent change.
   */
  async transact<R>(fn: (tx: Transaction<D, C>) => Promise<R> | R, opts: WriteOptions = {}): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const { tx, writes, seen } = this.txView(opts);
      const result = await fn(tx);
      if (writes.size === 0) return result;
      const outcome = await this.commitWrites([...writes.values()], seen, opts.actor ?? 'gastown');
      if (outcome === 'ok') return result;
      if (attempt >= this.maxRetries)
        throw new GastownError('gastown_conflict', `gave up after ${attempt + 1} attempts: the ledger kept changing underneath`, {
          refs: [...writes.keys()],
        });
      await sleep(Math.min(50, 1 + Math.random() * (2 + attempt * 2)));
    }
  }

  /** A fresh transaction: reads record the version seen, writes are collected for one commit. */
  private txView(opts: WriteOptions): { tx: Transaction<D, C>; writes: Map<string, PendingWrite>; seen: Map<string, string | null> } {
    const writes = new Map<string, PendingWrite>();
    const seen = new Map<string, string | null>();
    const tx: Transaction<D, C> = {
      get: async <T>(kind: D, id: string) => {
        const ref = this.ref(kind, id);
        const pending = writes.get(ref);
        if (pending) return pending.delete ? null : (pending.value as T);
        const v = await this.current<T>(kind, id);
        seen.set(ref, v?.oid ?? null);
        return v && !isTombstone(v.value) ? v.value : null;
      },
      put: (kind, id, value, summary) => {
        const ref = this.ref(kind, id);
        writes.set(ref, {
          ref,
          kind,
          oldOid: null,
          value,
          delete: false,
          summary: summary ?? `${opts.message ?? 'update'} ${kind}/${id}`,
          keepHistory: this.kinds.keepsHistory(kind),
        });
      },
      delete: (kind, id, summary) => {
        const ref = this.ref(kind, id);
        writes.set(ref, {
          ref,
          kind,
          oldOid: null,
          value: null,
          delete: true,
          summary: summary ?? `delete ${kind}/${id}`,
          keepHistory: true,
        });
      },
      append: (chain, name, entry, summary) => {
        const ref = this.ref(chain, name);
        const prev = writes.get(ref);
        const list = prev ? [...(prev.value as unknown[]), entry] : [entry];
        writes.set(ref, {
          ref,
          kind: chain,
          oldOid: null,
          value: list,
          delete: false,
          summary: summary ?? `append ${chain}/${name}`,
          keepHistory: true,
        });
      },
    };
    return { tx, writes, seen };
  }

  /** Convenience for a single append outside any other write. */
  async append<T>(chain: C, name: string, entry: T, opts: WriteOptions = {}): Promise<void> {
    await this.transact((tx) => tx.append(chain, name, entry, opts.message), opts);
  }

  /**
   * Bulk creation in one transaction: every ref must not exist yet. Used by import; one
   * `update-ref` for all refs, objects written in-process, the list cache primed.
   *
   * `also`, when given, runs like a `transact` function (fresh reads each attempt, no
   * outside effects) and its writes (a few updates of existing entities, a feed entry)
   * commit in the same all-or-nothing transaction as the creates. When one of its refs
   * moved meanwhile only `also` runs again; the created entities' objects are written once.
   */
  async createMany<T, R = void>(
    kind: D,
    items: { id: string; value: T }[],
    opts: WriteOptions = {},
    also?: (tx: Transaction<D, C>) => Promise<R> | R,
  ): Promise<R | undefined> {
    const actor = opts.actor ?? 'gastown';
    const sig = this.signature(actor);
    const updates: RefUpdate[] = [];
    const file = this.kinds.fileOf(kind);
    const fresh: Versioned<T>[] = [];
    // Many objects go into one packfile (two files instead of three per entity).
    const pack = items.length >= 32 ? new PackWriter(join(this.gitDir, 'objects'), this.algo) : null;
    const put = (type: 'blob' | 'tree' | 'commit', body: Buffer) => (pack ? pack.add(type, body) : this.objects.write(type, body));
    for (const item of items) {
      const ref = this.ref(kind, item.id);
      const json = JSON.stringify(item.value);
      const blob = put('blob', Buffer.from(json, 'utf8'));
      const tree = put('tree', treeBody([{ name: file, oid: blob }]));
      const oid = put(
        'commit',
        Buffer.from(
          encodeCommit({
            tree,
            parents: [],
            author: sig,
            committer: sig,
            message: encodeMessage(`${opts.message ?? 'create'} ${kind}/${item.id}`, item.value),
          }),
          'utf8',
        ),
      );
      updates.push({ ref, newOid: oid, oldOid: null });
      fresh.push({ id: item.id, oid, value: item.value });
    }
    pack?.finish();
    const created = new Set(updates.map((u) => u.ref));
    let result: R | undefined;
    for (let attempt = 0; ; attempt++) {
      let extra: RefUpdate[] = [];
      if (also) {
        const { tx, writes, seen } = this.txView(opts);
        result = await also(tx);
        const own = [...writes.values()];
        if (own.some((w) => created.has(w.ref)))
          throw new GastownError('gastown_bad_input', 'createMany: `also` must not write the refs being created');
        extra = await this.buildUpdates(own, seen, actor);
      }
      const outcome = await this.applyUpdates([...updates, ...extra]);
      if (outcome === 'ok') break;
      // A created ref that exists now is a real conflict; a moved ref of `also` is a lost race.
      const lostRace =
        extra.length > 0 &&
        (outcome.ref ? !created.has(outcome.ref) : (await Promise.all(updates.map((u) => this.tip(u.ref)))).every((t) => t === null));
      if (!lostRace || attempt >= this.maxRetries)
        throw new GastownError('gastown_conflict', `bulk create failed: ${outcome.message}`, { ref: outcome.ref });
      await sleep(Math.min(50, 1 + Math.random() * (2 + attempt * 2)));
    }
    this.cache.merge(this.prefix, kind, fresh);
    // Thousands of new loose refs would slow every later listing (51 ms against 9 ms packed
    // for 10,000); git's own pack-refs takes its lock, so concurrent writers stay safe.
    if (items.length >= 1000) await runGit(['pack-refs', '--all'], { cwd: this.repoDir }).catch(() => undefined);
    return result;
  }

  /**
   * Sets refs to given commits with compare-and-swap (sync uses this to fast-forward and to
   * record merges). Returns false when any ref moved meanwhile.
   */
  async setRefs(updates: RefUpdate[]): Promise<boolean> {
    const outcome = await this.applyUpdates(updates);
    return outcome === 'ok';
  }

  /** Writes a commit holding `value` for `kind` with the given parents; for sync's merges. */
  writeValueCommit(kind: string, value: unknown, parents: string[], summary: string, actor: string, time?: number): string {
    const sig = this.signature(actor, time);
    const file = this.kinds.fileOf(kind);
    const tree =
      value === null || isTombstone(value)
        ? this.emptyTree()
        : this.objects.writeTree([{ name: file, oid: this.objects.writeBlob(JSON.stringify(value)) }]);
    return this.objects.writeCommit({ tree, parents, author: sig, committer: sig, message: encodeMessage(summary, value) });
  }

  /** Finishes or undoes the transactions of writers that were killed, and frees their locks. */
  async recover(): Promise<RecoveryResult> {
    return this.recovery.sweep();
  }

  /**
   * Every lock file under the ledger's namespace (and `packed-refs.lock`) older than
   * `minAgeMs`, with who holds it: a live writer, a dead one, or no owner we can name (git's).
   */
  locks(minAgeMs = 0): (FoundLock & { state: 'alive' | 'dead' | 'foreign' })[] {
    return findLocks(this.gitDir, this.prefix, minAgeMs).map((l) => ({
      ...l,
      state: l.owner === null ? 'foreign' : this.recovery.dead(l.owner, l.path) ? 'dead' : 'alive',
    }));
  }

  /**
   * Clears locks for `gt doctor --fix`: dead writers' by recovery (their transactions
   * finished or undone), and locks naming no owner that are older than the stale age,
   * which only a person may decide are abandoned (as git says: "remove the file manually").
   */
  async clearLocks(): Promise<{ recovered: RecoveryResult; removed: string[]; left: string[] }> {
    const recovered = await this.recover();
    const removed: string[] = [];
    const left: string[] = [];
    for (const lock of this.locks(0)) {
      if (lock.state === 'dead') {
        const state = await this.recovery.freeLock(lock.path, recovered);
        (state === 'freed' ? removed : left).push(lock.path);
      } else if (lock.state === 'foreign' && lock.ageMs > this.staleLockMs) {
        rmSync(lock.path, { force: true });
        removed.push(lock.path);
      } else left.push(lock.path);
    }
    return { recovered, removed, left };
  }

  /** The object format of this repository's object ids. */
  get hashAlgo(): HashAlgo {
    return this.algo;
  }

  /**
   * Writes one object into the store as it came from elsewhere (a fetch's pack read
   * in-process: ledger/fetch-over-http.ts) and returns its id. Content-addressed, so writing
   * one already there changes nothing.
   */
  writeObject(type: 'blob' | 'tree' | 'commit', content: Buffer): string {
    return this.objects.write(type, content);
  }

  /** One object as stored (type and content), or null when it is missing: what a push in-process sends. */
  readObject(oid: string): Promise<GitObject | null> {
    return this.object(oid).catch(() => null);
  }

  /** The type of an object ('commit', 'tree', ...), or null when it is missing. */
  async objectType(oid: string): Promise<string | null> {
    const obj = await this.object(oid).catch(() => null);
    return obj ? obj.type : null;
  }

  /** The commit the list cache last saw for an entity (for `gt doctor --fix`), or null. */
  cachedOid(kind: string, id: string): string | null {
    return this.cache.load(this.prefix, kind).get(id)?.oid ?? null;
  }

  /**
   * Points a broken ref (its file empty, cut short, or naming a missing object) at `oid`,
   * under its lock and only if the ref file still holds `raw`, the text found broken. A
   * broken ref cannot be compare-and-swapped through git, which does not read it. False
   * when the ref changed meanwhile, is locked, or refs are not plain files here.
   */
  repairRef(ref: string, oid: string, raw: string | null): boolean {
    if (!this.refStore) return false;
    const file = join(this.gitDir, ref);
    const lock = `${file}.lock`;
    try {
      this.owner.link(lock);
    } catch {
      return false;
    }
    try {
      if (raw !== null && readFileIfAny(file) !== raw) return false;
      this.refStore.place(ref, oid);
      return true;
    } finally {
      rmSync(lock, { force: true });
    }
  }

  // ---------------------------------------------------------------- internals

  /**
   * The value a commit holds. Our own commits repeat the JSON in their message (one object
   * read); a commit written by other tools (plain git, a person) may not, and then the
   * tree, which is canonical, is read.
   */
  private async valueOf<T>(kind: string, oid: string, content: Buffer): Promise<T> {
    const d = await this.decodeRaw(kind, oid, content);
    if (d.problem !== undefined) throw new GastownError('gastown_git', `${kind} commit ${oid}: ${d.problem}`);
    return d.value as T;
  }

  /** The value a commit holds (message first, else the tree), unchecked. */
  private async decodeRaw(kind: string, oid: string, content: Buffer | null): Promise<Decoded> {
    if (content) {
      try {
        const v = decodeMessage(parseCommit(content).message).value;
        if (v !== null) return { value: v };
      } catch {
        /* not our message format, or its JSON is damaged: fall back to the tree */
      }
    }
    return this.treeValue(kind, oid);
  }

  private async treeValue(kind: string, oid: string): Promise<Decoded> {
    const file = this.kinds.fileOf(kind);
    const blob = await this.catFile.read(`${oid}:${file}`);
    if (!blob || blob.type !== 'blob') return { problem: `commit ${oid.slice(0, 12)} holds no ${file}` };
    let value: unknown;
    try {
      value = JSON.parse(blob.content.toString('utf8'));
    } catch {
      return { problem: `${file} is not valid JSON` };
    }
    return value === null ? { problem: `${file} holds null` } : { value };
  }

  /** The value a commit holds, checked by its kind's validator. */
  private async decode(kind: string, oid: string, content: Buffer | null): Promise<Decoded> {
    const d = await this.decodeRaw(kind, oid, content);
    // A tombstone is the ledger's own marker of a delete, not a value of the kind.
    if (d.problem !== undefined || isTombstone(d.value)) return d;
    const problem = this.problemWith(kind, d.value);
    return problem === null ? d : { problem: `${this.kinds.fileOf(kind)} does not validate: ${problem}` };
  }

  /**
   * Log entries with a usable value: an entry whose message has no JSON is read from its
   * tree; one still without a good value is left out and reported under `refOf(entry)`.
   */
  private async checkEntries<E extends { oid: string; value: T; undecoded?: boolean }, T>(
    entries: E[],
    kindOf: (e: E) => string,
    refOf: (e: E) => string,
  ): Promise<E[]> {
    const decoded = await Promise.all(
      entries.map(async (e): Promise<Decoded> => {
        const d = e.undecoded ? await this.treeValue(kindOf(e), e.oid) : { value: e.value as unknown };
        if (d.problem !== undefined) return d;
        const problem = this.problemWith(kindOf(e), d.value);
        return problem === null ? d : { problem: `${this.kinds.fileOf(kindOf(e))} does not validate: ${problem}` };
      }),
    );
    return entries.flatMap((e, i) => {
      const d = decoded[i]!;
      if (d.problem === undefined) return [{ ...e, value: d.value as T }];
      this.report(refOf(e), e.oid, `${e.oid.slice(0, 12)}: ${d.problem}`);
      return [];
    });
  }

  /** Records a left-out entity once per ledger (and tells `onInvalid`). */
  private report(ref: string, oid: string, problem: string): void {
    const key = `${ref}\u0000${oid}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.skipped.push({ ref, oid, problem });
    this.onInvalid?.(ref, problem);
  }

  private async commitWrites(writes: PendingWrite[], seen: Map<string, string | null>, actor: string): Promise<'ok' | 'retry'> {
    const outcome = await this.applyUpdates(await this.buildUpdates(writes, seen, actor));
    return outcome === 'ok' ? 'ok' : 'retry';
  }

  /** The objects of a transaction's writes (written here) and the ref updates that publish them. */
  private async buildUpdates(writes: PendingWrite[], seen: Map<string, string | null>, actor: string): Promise<RefUpdate[]> {
    // Refs written without being read first (appends, blind puts) compare against the tip now.
    const unread = writes.filter((w) => !seen.has(w.ref));
    if (unread.length) {
      const tips = await Promise.all(unread.map((w) => this.tip(w.ref)));
      unread.forEach((w, i) => seen.set(w.ref, tips[i]!));
    }
    const sig = this.signature(actor);
    const updates: RefUpdate[] = [];
    for (const w of writes) {
      const old = seen.get(w.ref) ?? null;
      if (w.delete) {
        const tombstone = old ? await this.tombstoneUpdate(w, old, sig) : null;
        if (tombstone) updates.push(tombstone);
        continue;
      }
      if (this.kinds.isChain(w.kind)) {
        // A chain: one commit per entry, each with the previous as parent.
        let parent = old;
        for (const entry of w.value as unknown[]) {
          parent = this.objects.writeCommit({
            tree: this.objects.writeTree([{ name: this.kinds.fileOf(w.kind), oid: this.objects.writeBlob(JSON.stringify(entry)) }]),
            parents: parent ? [parent] : [],
            author: sig,
            committer: sig,
            message: encodeMessage(w.summary, entry),
          });
        }
        updates.push({ ref: w.ref, newOid: parent, oldOid: old });
        continue;
      }
      const json = JSON.stringify(w.value);
      const tree = this.objects.writeTree([{ name: this.kinds.fileOf(w.kind), oid: this.objects.writeBlob(json) }]);
      const oid = this.objects.writeCommit({
        tree,
        parents: w.keepHistory && old ? [old] : [],
        author: sig,
        committer: sig,
        message: encodeMessage(w.summary, w.value),
      });
      updates.push({ ref: w.ref, newOid: oid, oldOid: old });
    }
    return updates;
  }

  /**
   * A delete: the ref moves to a tombstone commit on top of its last version (see
   * tombstone.ts), so the delete syncs like any other change. Null when already deleted.
   */
  private async tombstoneUpdate(w: PendingWrite, old: string, sig: Signature): Promise<RefUpdate | null> {
    const obj = await this.object(old);
    if (obj?.type === 'commit' && isTombstone(await this.valueOf(w.kind, old, obj.content).catch(() => null))) return null;
    const newOid = this.objects.writeCommit({
      tree: this.emptyTree(),
      parents: [old],
      author: sig,
      committer: sig,
      message: encodeMessage(w.summary, TOMBSTONE),
    });
    return { ref: w.ref, newOid, oldOid: old };
  }

  private async applyUpdates(updates: RefUpdate[]): Promise<'ok' | { message: string; ref: string | null }> {
    const started = Date.now();
    const stats: RecoveryResult = { rolledForward: 0, discarded: 0, locksFreed: 0 };
    for (let tries = 0; ; tries++) {
      const result = await this.refTransaction(updates);
      if (result.ok) {
        this.#writes += 1;
        return 'ok';
      }
      if (result.reason === 'conflict') return { message: result.message, ref: result.ref };
      // A lock is in the way: a dead writer's is recovered at once; a live one is waited for.
      const lock = result.lockPath;
      const state = lock ? await this.recovery.freeLock(lock, stats) : 'held';
      if (state === 'freed' && tries < 1000) continue;
      if (Date.now() - started > this.lockTimeoutMs) {
        const hint =
          state === 'foreign'
            ? " (not a gastown writer's: if no git process is running, remove it or run `gt doctor --fix`)"
            : ' (held by a running writer)';
        throw new GastownError('gastown_locked', `ref stays locked: ${lock ?? result.message}${hint}`, { lock });
      }
      await sleep(1 + Math.random() * Math.min(20, 2 + tries));
    }
  }

  /** The commit a ref points at, or null when there is no such ref. */
  private async tip(ref: string): Promise<string | null> {
    const direct = this.refFiles?.read(ref);
    if (direct !== undefined) return direct;
    return (await this.catFile.read(ref))?.oid ?? null;
  }

  private async object(oid: string): Promise<GitObject | null> {
    return this.reader.read(oid) ?? this.catFile.read(oid);
  }

  private refTransaction(updates: RefUpdate[]): Promise<TransactionResult> {
    // Bulk writes stay with git: checking thousands of refs against packed-refs is its job.
    const direct = updates.length <= 32 ? this.refFiles?.transaction(updates) : undefined;
    if (direct) return Promise.resolve(direct);
    // Through git: our record, written while git holds every lock, names git's process and
    // each lock's identity, so a recoverer can finish git's commit if both of us are killed.
    return this.updater.transaction(updates, {
      prepared: (gitPid) => {
        const locks: Record<string, { ino: string; ctimeNs: string }> = {};
        for (const u of updates) {
          const id = lockIdentity(join(this.gitDir, `${u.ref}.lock`));
          if (id) locks[u.ref] = id;
        }
        const packedLock = updates.some((u) => u.newOid === null) ? lockIdentity(join(this.gitDir, 'packed-refs.lock')) : null;
        return this.journal.write({
          path: 'git',
          owner: this.owner.id,
          gitPid,
          gitStart: processStart(gitPid) ?? '-',
          updates,
          locks,
          packedLock,
        });
      },
      done: (file) => this.journal.remove(file),
    });
  }

  private signature(actor: string, time?: number): Signature {
    const name = actor.replace(/[<>\n]/g, '') || 'gastown';
    const email = `${name.replace(/[^A-Za-z0-9._-]/g, '_')}@gastown.local`;
    return { name, email, time: time ?? Math.floor(this.now().getTime() / 1000) };
  }

  private emptyTree(): string {
    if (!this.emptyTreeOid) this.emptyTreeOid = this.objects.writeTree([]);
    return this.emptyTreeOid;
  }
}

function historyEntry<T>(e: HistoryEntry<T> & { source?: string; undecoded?: boolean }): HistoryEntry<T> {
  return { oid: e.oid, parents: e.parents, time: e.time, actor: e.actor, summary: e.summary, value: e.value };
}

function readFileIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Up to this many entities, getMany reads the files instead of starting a cat-file process. */
const FEW = 16;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
