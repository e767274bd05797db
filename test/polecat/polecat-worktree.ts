import { createPolecatWorktree, type PolecatWorktree } from '../../src/polecat/worktree.js';
import type { AgentTask } from '../../src/polecat/agents/agent.js';
import { HOOKS_DIR, NUX, type Rig } from './git-fixture.js';

/** The worktree of polecat nux on bead gt-abcd in `rig`. */
export function nuxWorktree(rig: Rig): Promise<PolecatWorktree> {
  return createPolecatWorktree({
    repoDir: rig.clone,
    worktreeRoot: rig.worktreeRoot,
    polecat: 'nux',
    beadId: 'gt-abcd',
    baseRef: 'origin/main',
    identity: NUX,
    hooksDir: HOOKS_DIR,
  });
}

export function taskFor(worktree: string, fields: Partial<AgentTask> = {}): AgentTask {
  return {
    beadId: 'gt-abcd',
    title: 'Add a greeting',
    body: '',
    acceptance: [],
    files: [],
    prompt: 'Add a greeting.',
    worktree,
    ...fields,
  };
}
