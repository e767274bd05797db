// A runner in its own process, so a test can SIGKILL it mid-bead or run several at once.
import { createScriptAgent } from '../../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../../src/polecat/runner/run-runner.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, runnerId, mode = 'once'] = process.argv.slice(2);
const rig = await Rig.open({ repoDir: repoDir!, actor: runnerId! });
const summary = await runRunner({
  rig,
  agentFactory: () => createScriptAgent(),
  concurrency: mode === 'once' ? 1 : 2,
  once: mode === 'once',
  untilIdle: mode === 'until-idle',
  runnerId,
  refinery: false,
  pollMs: 50,
});
process.stdout.write(JSON.stringify(summary));
rig.close();
