// A writer for the fault suite: adds one label per step to one bead and sends one mail per
// step, printing `ack <kind> <tag>` only after each write has returned. The suite kills
// these processes at random moments and then checks that every acknowledged write is there.
import { updateBead } from '../../../src/rig/beads.js';
import { sendMail } from '../../../src/rig/mail.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, who, countText, bead] = process.argv.slice(2);
// Opened anew for every write, as each `gt` command does: opening is when leftovers of
// killed writers are recovered, so recoveries run all the time beside live writers.
const open = () => Rig.open({ repoDir: repoDir!, actor: who! });
for (let i = 0; i < Number(countText); i++) {
  const tag = `${who}-${i}`;
  let rig = await open();
  await updateBead(rig, bead!, { addLabels: [tag] });
  rig.close();
  process.stdout.write(`ack bead ${tag}\n`);
  rig = await open();
  await sendMail(rig, { to: 'mayor', subject: tag });
  rig.close();
  process.stdout.write(`ack mail ${tag}\n`);
}
