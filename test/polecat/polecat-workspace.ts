import { createWorkspace, type PolecatWorkspace } from '../../src/polecat/workspace.js';
import type { AgentTask } from '../../src/polecat/agents/agent.js';
import { HOOKS_DIR, NUX, type Rig } from './git-fixture.js';

/** The workspace of polecat nux on bead gt-abcd, cloned from `rig`'s origin/main. */
export function nuxWorkspace(rig: Rig, startRef = 'refs/remotes/origin/main'): Promise<PolecatWorkspace> {
  return createWorkspace({
    repoDir: rig.clone,
    root: rig.workspaceRoot,
    polecat: 'nux',
    beadId: 'gt-abcd',
    startRef,
    identity: NUX,
    hooksDir: HOOKS_DIR,
  });
}

export function taskFor(workspace: string, fields: Partial<AgentTask> = {}): AgentTask {
  return {
    beadId: 'gt-abcd',
    title: 'Add a greeting',
    body: '',
    acceptance: [],
    files: [],
    prompt: 'Add a greeting.',
    workspace,
    ...fields,
  };
}
