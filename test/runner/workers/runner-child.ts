// A runner in its own process, so a test can SIGKILL it mid-bead.
import { createScriptAgent } from '../../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../../src/polecat/runner/run-runner.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, runnerId] = process.argv.slice(2);
const rig = await Rig.open({ repoDir: repoDir!, actor: runnerId! });
await runRunner({ rig, agentFactory: () => createScriptAgent(), concurrency: 1, once: true, runnerId, refinery: false });
rig.close();
