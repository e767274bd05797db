/**
 * One agent suite, every agent: the script agent (a shell fence in the bead body), the
 * command agent (an external program fed the prompt: here bash reading it on stdin), and the
 * built-in agent (its tool loop against a loopback Anthropic API whose scripted model runs
 * the command).
 */
import Anthropic from '@anthropic-ai/sdk';
import { createBuiltinAgent } from '../../src/polecat/agents/builtin-agent.js';
import { createCommandAgent } from '../../src/polecat/agents/command-agent.js';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { agentSuite } from '../support/conformance/agent-suite.js';
import { startScriptedModel } from '../support/conformance/scripted-model.js';

// The agents' own git calls (the polecat name in the worktree's config) see no developer config.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

agentSuite('script agent', async () => ({
  agent: ({ stepTimeoutMs }) => createScriptAgent({ stepTimeoutMs }),
  task: (script) => ({ title: 'Run the script', body: `Run it.\n\n\`\`\`sh\n${script}\n\`\`\`\n`, prompt: 'Run the script in the body.' }),
  close: async () => {},
}));

agentSuite('command agent (bash reading the prompt)', async () => ({
  agent: ({ stepTimeoutMs }) => createCommandAgent({ command: 'bash -e', promptVia: 'stdin', timeoutMs: stepTimeoutMs }),
  task: (script) => ({ title: 'Run the script', body: 'Run the script.', prompt: script }),
  close: async () => {},
}));

agentSuite('built-in agent (scripted model on a loopback API)', async () => {
  const model = await startScriptedModel();
  const client = new Anthropic({ apiKey: 'sk-ant-conformance', baseURL: model.baseURL, maxRetries: 0 });
  return {
    agent: ({ stepTimeoutMs }) =>
      createBuiltinAgent({ client, model: 'claude-sonnet-5-5', maxTurns: 3, tokenBudget: 1_000_000, commandTimeoutMs: stepTimeoutMs }),
    task: (script) => ({
      title: 'Run the script',
      body: 'Run the script.',
      prompt: `Run this with run_command, then finish.\nRUN:\n${script}`,
    }),
    close: () => model.stop(),
  };
});
