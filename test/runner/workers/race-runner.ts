// A runner in its own process on its own clone, syncing with the shared remote: for the race tests.
import { createScriptAgent } from '../../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../../src/polecat/runner/run-runner.js';
import { createNoSandbox } from '../../../src/polecat/sandbox/no-sandbox.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, runnerId, syncMs = '300'] = process.argv.slice(2);
const rig = await Rig.open({ repoDir: repoDir!, actor: runnerId! });
const summary = await runRunner({
  rig,
  agentFactory: () => createScriptAgent(),
  concurrency: 2,
  untilIdle: true,
  dispatch: false,
  refinery: false,
  runnerId,
  pollMs: 50,
  syncMs: Number(syncMs),
  // The marks the beads leave are outside any workspace; the sandbox is not what is tested here.
  sandbox: createNoSandbox(),
  log: (line: string) => process.stderr.write(`${line}\n`),
});
process.stdout.write(JSON.stringify(summary));
rig.close();
