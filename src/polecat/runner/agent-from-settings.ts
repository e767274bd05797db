import { GastownError } from '../../errors.js';
import { anthropicFromEnv } from '../../model/anthropic.js';
import type { RigSettings } from '../../rig/rig-settings.js';
import type { PolecatAgent } from '../agents/agent.js';
import { createBuiltinAgent } from '../agents/builtin-agent.js';
import { createCommandAgent } from '../agents/command-agent.js';
import { createScriptAgent } from '../agents/script-agent.js';

/** Makes the agent a polecat runs with; one per bead, so agents keep no state between beads. */
export type AgentFactory = (polecat: string) => PolecatAgent;

/**
 * The agent the rig's settings ask for; `env` is read only here (the model key for the built-in
 * agent, used in this process: the agent's commands never see it).
 */
export function agentFromSettings(
  agent: RigSettings['agent'],
  env: NodeJS.ProcessEnv,
  opts: {
    /** Wraps the script agent, whose steps come from a bead's text (on GitHub: only vouched-for blocks run). */
    scriptGuard?: (script: PolecatAgent) => PolecatAgent;
  } = {},
): AgentFactory {
  switch (agent.kind) {
    case 'script': {
      const guard = opts.scriptGuard ?? ((script: PolecatAgent) => script);
      return () => guard(createScriptAgent({ stepTimeoutMs: agent.timeoutMs }));
    }
    case 'command': {
      if (!agent.command) throw new GastownError('gastown_config', 'agent kind "command" needs agent.command in the rig settings');
      const command = agent.command;
      return () =>
        createCommandAgent({ command, timeoutMs: agent.timeoutMs, usageParser: agent.usageParser, resumeCommand: agent.resumeCommand });
    }
    case 'builtin': {
      const model = anthropicFromEnv(env);
      if (!model) throw new GastownError('gastown_config', 'the built-in agent needs ANTHROPIC_API_KEY');
      return () =>
        createBuiltinAgent({
          client: model.client,
          model: agent.model ?? model.model,
          maxTurns: agent.maxTurns,
          tokenBudget: agent.tokenBudget,
        });
    }
  }
}
