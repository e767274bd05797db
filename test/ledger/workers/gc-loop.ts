// Packs refs and collects garbage in a loop while the fault suite's writers run: git's own
// maintenance takes the same locks as our writers and must never cost a write. (Not
// --prune=now: that deletes objects a writer of any kind, git included, has written but not
// yet referenced; git documents it as unsafe beside concurrent writers.)
import { execFileSync } from 'node:child_process';

const [repoDir, untilText] = process.argv.slice(2);
const until = Date.now() + Number(untilText);
let rounds = 0;
while (Date.now() < until) {
  for (const args of [
    ['pack-refs', '--all', '--prune'],
    ['gc', '--quiet'],
  ]) {
    try {
      execFileSync('git', args, { cwd: repoDir, stdio: 'ignore' });
    } catch {
      // A ref locked by a writer makes pack-refs skip or fail that round, as designed.
    }
  }
  rounds++;
}
process.stdout.write(`rounds ${rounds}\n`);
