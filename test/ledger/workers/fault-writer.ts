// A writer for the fault suite: adds one label per step to one bead and sends one mail per
// step, printing `ack <kind> <tag>` only after each write has returned. The suite kills
// these processes at random moments and then checks that every acknowledged write is there.
import { updateBead } from '../../../src/rig/beads.js';
import { sendMail } from '../../../src/rig/mail.js';
import { Rig } from '../../../src/rig/rig.js';

const [repoDir, who, countText, bead] = process.argv.slice(2);
const rig = await Rig.open({ repoDir: repoDir!, actor: who!, staleLockMs: 60_000 });
for (let i = 0; i < Number(countText); i++) {
  const tag = `${who}-${i}`;
  await updateBead(rig, bead!, { addLabels: [tag] });
  process.stdout.write(`ack bead ${tag}\n`);
  await sendMail(rig, { to: 'mayor', subject: tag });
  process.stdout.write(`ack mail ${tag}\n`);
}
rig.close();
