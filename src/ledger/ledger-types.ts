/** The ledger's public shapes: what callers read and how they write. */

import type { EntityKind } from './entity-kinds.js';

export interface Versioned<T> {
  id: string;
  value: T;
  /** The commit the ref points at: the version a compare-and-swap expects. */
  oid: string;
}

export interface ChainEntry<T> {
  oid: string;
  value: T;
  /** Committer time in seconds. */
  time: number;
  actor: string;
}

export interface HistoryEntry<T> {
  oid: string;
  parents: string[];
  time: number;
  actor: string;
  summary: string;
  value: T;
}

export interface LedgerOptions {
  /** Any directory inside the repository (or a worktree of it). */
  repoDir: string;
  /** The common git directory, when the caller already knows it (saves a git process). */
  gitDir?: string;
  /** Ref namespace; must end with '/'. Some hosts accept only refs/heads/*: use e.g. 'refs/heads/gastown-ledger/'. */
  prefix?: string;
  now?: () => Date;
  /**
   * Writers on this host are known dead by their process id. A writer on another host
   * sharing this directory (a network file system) counts as dead once its lock or record
   * is older than this; `gt doctor --fix` also removes locks that name no owner (git's)
   * older than this.
   */
  staleLockMs?: number;
  /** How long a write waits for a ref locked by a live writer (or by git) before it fails. */
  lockTimeoutMs?: number;
  /**
   * Write small transactions straight to the ref files (default true). False sends every
   * write through `git update-ref`; tests use it to run the same checks on both paths.
   */
  directRefs?: boolean;
  /** How many times a compare-and-swap transaction is retried after losing a race. */
  maxRetries?: number;
  /**
   * Checks of an entity's value, by kind, supplied by the layer that owns the kinds (the
   * ledger knows none by name). Each answers null when the value is good, else what is wrong.
   */
  validators?: Partial<Record<string, EntityValidator>>;
  /** The kinds this ledger holds, declared by their owner (a kind not declared: a document in `data.json`). */
  kinds?: readonly EntityKind[];
  /**
   * Told once per bad entity (per open ledger) when a read leaves it out because its value
   * cannot be decoded or fails its validator. Every such entity is also kept in `skipped`.
   */
  onInvalid?: (ref: string, problem: string) => void;
}

/** An entity (or chain entry) a read left out, and why. */
export interface SkippedEntity {
  ref: string;
  /** The commit that holds the bad value. */
  oid: string;
  problem: string;
}

/** Null when `value` is a good entity of its kind; otherwise one line saying what is wrong. */
export type EntityValidator = (value: unknown) => string | null;

export interface WriteOptions {
  /** Who is acting (a person's login, a polecat's name); becomes the commit author. */
  actor?: string;
  /** Summary line for the history. */
  message?: string;
}

/** A read-then-write unit of work. Reads record the version seen; writes compare-and-swap against it. */
export interface Transaction<D extends string = string, C extends string = string> {
  get<T>(kind: D, id: string): Promise<T | null>;
  put<T>(kind: D, id: string, value: T, summary?: string): void;
  delete(kind: D, id: string, summary?: string): void;
  append<T>(chain: C, name: string, entry: T, summary?: string): void;
}
