// Makes beads wait on one blocker as fast as it can: `dep add` for each given bead, then
// `count` new beads created with --blocked-by. Prints the ids it made dependents (JSON).
import { addDependency, createBead } from '../../../src/rig/beads.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, blocker, who, countText, ...existing] = process.argv.slice(2);
const rig = await Rig.open({ repoDir: repoDir!, actor: who });
const made: string[] = [];
try {
  for (const id of existing) {
    await addDependency(rig, id, blocker!);
    made.push(id);
  }
  for (let i = 0; i < Number(countText); i++) made.push((await createBead(rig, { title: `${who} ${i}`, blockedBy: [blocker!] })).id);
} finally {
  rig.close();
}
process.stdout.write(JSON.stringify(made));
