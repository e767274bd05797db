/**
 * The dependency graph over `blocks` edges. An edge runs from a bead to each id in its
 * `blockedBy` ("a -> b" reads "a waits on b"). Everything here is iterative and linear in
 * nodes plus edges, because it runs over every bead of a rig on hot paths (ready, sling).
 */
import { GastownError } from '../errors.js';
import { MinHeap } from './min-heap.js';
import type { Bead } from './types.js';

export interface GraphNode {
  id: string;
  blockedBy: readonly string[];
}

/** Duplicate ids are merged (edges united) so a repeated node cannot hide a cycle. */
function adjacency(nodes: ReadonlyArray<GraphNode>): Map<string, string[]> {
  const adj = new Map<string, string[]>();
  for (const node of nodes) {
    const edges = adj.get(node.id);
    if (edges) edges.push(...node.blockedBy);
    else adj.set(node.id, [...node.blockedBy]);
  }
  return adj;
}

/**
 * One cycle as the ids along it (`a` blocked by `b` blocked by `a` gives `['a', 'b']`), or
 * null. Edges to ids not in `nodes` are ignored.
 */
export function findCycle(nodes: ReadonlyArray<GraphNode>): string[] | null {
  const adj = adjacency(nodes);
  const done = new Set<string>();
  // The current DFS path, with each id's position so a back edge yields its cycle at once.
  const pathIndex = new Map<string, number>();
  const path: string[] = [];
  const cursor: number[] = [];

  for (const start of adj.keys()) {
    if (done.has(start)) continue;
    path.push(start);
    cursor.push(0);
    pathIndex.set(start, 0);
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top]!;
      const edges = adj.get(id)!;
      const i = cursor[top]!;
      if (i < edges.length) {
        cursor[top] = i + 1;
        const next = edges[i]!;
        if (!adj.has(next) || done.has(next)) continue;
        const at = pathIndex.get(next);
        if (at !== undefined) return path.slice(at);
        pathIndex.set(next, path.length);
        path.push(next);
        cursor.push(0);
      } else {
        done.add(id);
        pathIndex.delete(id);
        path.pop();
        cursor.pop();
      }
    }
  }
  return null;
}

function compareForDispatch(a: Bead, b: Bead): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isReady(bead: Bead, byId: ReadonlyMap<string, Bead>): boolean {
  return bead.status === 'open' && bead.blockedBy.every((b) => byId.get(b)?.status === 'closed');
}

/** Open beads whose every blocker exists and is closed, most urgent first. */
export function readyBeads(beads: readonly Bead[]): Bead[] {
  const byId = new Map(beads.map((b) => [b.id, b] as const));
  return beads.filter((b) => isReady(b, byId)).sort(compareForDispatch);
}

/** Why a bead is not ready: blockers not yet closed, and blockers that do not exist. */
export function blockersOf(bead: Bead, byId: ReadonlyMap<string, Bead>): { open: string[]; missing: string[] } {
  const open: string[] = [];
  const missing: string[] = [];
  for (const id of new Set(bead.blockedBy)) {
    const blocker = byId.get(id);
    if (!blocker) missing.push(id);
    else if (blocker.status !== 'closed') open.push(id);
  }
  return { open, missing };
}

/** Beads that list `id` among their blockers. */
export function dependentsOf(beads: readonly Bead[], id: string): Bead[] {
  return beads.filter((b) => b.blockedBy.includes(id));
}

/** Beads ready in `after` that were not ready in `before`: what to sling after a change. */
export function newlyReady(before: readonly Bead[], after: readonly Bead[]): Bead[] {
  const wasReady = new Set(readyBeads(before).map((b) => b.id));
  return readyBeads(after).filter((b) => !wasReady.has(b.id));
}

/**
 * Throws `gastown_cycle` if making `beadId` also wait on `extraBlockers` would close a
 * cycle. Only cycles through the new edges count: an unrelated existing cycle is not this
 * change's fault. `beadId` need not exist yet (a bead being created).
 */
export function assertNoCycleWith(beads: readonly Bead[], beadId: string, extraBlockers: readonly string[]): void {
  if (extraBlockers.includes(beadId)) {
    throw new GastownError('gastown_cycle', `${beadId} cannot be blocked by itself`, { cycle: [beadId] });
  }
  const byId = new Map(beads.map((b) => [b.id, b] as const));
  // Breadth-first from the new blockers along blockedBy; reaching beadId closes a cycle.
  const cameFrom = new Map<string, string | null>();
  const queue: string[] = [];
  for (const id of extraBlockers) {
    if (!cameFrom.has(id)) {
      cameFrom.set(id, null);
      queue.push(id);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const next of byId.get(id)?.blockedBy ?? []) {
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, id);
      if (next === beadId) {
        const cycle: string[] = [];
        for (let at: string | null = next; at !== null; at = cameFrom.get(at) ?? null) cycle.push(at);
        cycle.reverse();
        // cycle is [blocker, ..., beadId]; name it starting from beadId for the reader.
        const names = [beadId, ...cycle];
        throw new GastownError(
          'gastown_cycle',
          `${beadId} cannot be blocked by ${cycle[0]}: that would make a cycle ${names.join(' -> ')}`,
          { cycle: names.slice(0, -1) },
        );
      }
      queue.push(next);
    }
  }
}

/**
 * Ids ordered so blockers come before their dependents; among ids free at the same time the
 * smallest comes first, so the order is the same on every machine. Throws `gastown_cycle`.
 */
export function topoOrder(nodes: ReadonlyArray<GraphNode>): string[] {
  const adj = adjacency(nodes);
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [id, edges] of adj) {
    const blockers = new Set(edges.filter((b) => adj.has(b)));
    waitingOn.set(id, blockers.size);
    for (const b of blockers) {
      const list = dependents.get(b);
      if (list) list.push(id);
      else dependents.set(b, [id]);
    }
  }
  const free = new MinHeap<string>((a, b) => a < b);
  for (const [id, count] of waitingOn) if (count === 0) free.push(id);
  const order: string[] = [];
  for (let id = free.pop(); id !== undefined; id = free.pop()) {
    order.push(id);
    for (const dep of dependents.get(id) ?? []) {
      const left = waitingOn.get(dep)! - 1;
      waitingOn.set(dep, left);
      if (left === 0) free.push(dep);
    }
  }
  if (order.length < adj.size) {
    const cycle = findCycle(nodes) ?? [];
    throw new GastownError('gastown_cycle', `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`, { cycle });
  }
  return order;
}
