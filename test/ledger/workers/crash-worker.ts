// Runs wide multi-ref transactions forever (one counter written to many refs at once), so a
// SIGKILL lands in the middle of one. Invariant: every ref of the set holds the same counter.
import { Ledger } from '../../../src/ledger/ledger.js';
import { TOWN_KINDS } from '../../../src/rig/town-kinds.js';

const [repoDir, widthText, refPath] = process.argv.slice(2);
const width = Number(widthText);
const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: repoDir!, directRefs: refPath !== 'git' });
for (let n = 1; ; n++) {
  await ledger.transact((tx) => {
    for (let i = 0; i < width; i++) tx.put('beads', `gt-w${i}`, { id: `gt-w${i}`, n });
  });
  // Tell the test once the first transaction is in: from then on every kill lands mid-run.
  if (n === 1) process.stdout.write('ready\n');
}
