// Appends `count` increments to one bead and `count` messages to one inbox, as fast as it can.
import { Ledger } from '../../../src/ledger/ledger.js';
import { TOWN_KINDS } from '../../../src/rig/town-kinds.js';

const [repoDir, who, countText, refPath] = process.argv.slice(2);
const count = Number(countText);
// refPath 'git': every write through `git update-ref`, not straight to the ref files.
const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: repoDir!, directRefs: refPath !== 'git' });
for (let i = 0; i < count; i++) {
  await ledger.transact(
    async (tx) => {
      const bead = (await tx.get<{ id: string; hits: string[] }>('beads', 'gt-race')) ?? { id: 'gt-race', hits: [] };
      tx.put('beads', 'gt-race', { ...bead, hits: [...bead.hits, `${who}:${i}`] });
    },
    { actor: who },
  );
  await ledger.append('mail', 'mayor', { id: `${who}-${i}`, from: who, body: `message ${i}` }, { actor: who });
}
ledger.close();
