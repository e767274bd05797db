import { processContext } from './cli-context.js';
import { runCli, type CommandGroup } from './main.js';

/**
 * Process entry: the core commands load eagerly; heavier groups (runner, demo, Refinery)
 * are imported only when their command is asked for, so `gt ready` stays fast.
 */
export async function main(argv: string[]): Promise<number> {
  const extra: CommandGroup[] = [];
  const first = argv.find((a) => !a.startsWith('-'));
  const lazy = await lazyGroups(first, argv);
  extra.push(...lazy);
  return runCli(argv, processContext(), extra);
}

async function lazyGroups(first: string | undefined, argv: string[]): Promise<CommandGroup[]> {
  // Help lists everything, so it loads everything.
  const all = first === 'help' || (first === undefined && (argv.length === 0 || argv.includes('--help') || argv.includes('-h')));
  const groups: CommandGroup[] = [];
  for (const [names, load] of LAZY) {
    if (all || names.includes(first!)) groups.push(await load());
  }
  return groups;
}

/** Heavy command groups, loaded only when named (exported for the test that keeps bin/gt in step). */
export const LAZY: [string[], () => Promise<CommandGroup>][] = [
  [['runner'], async () => (await import('./lazy.js')).registerRunner],
  [['refinery'], async () => (await import('./lazy.js')).registerRefinery],
  [['deacon'], async () => (await import('./lazy.js')).registerDeacon],
  [['demo'], async () => (await import('./lazy.js')).registerDemo],
  [['install-workflow'], async () => (await import('./lazy.js')).registerInstallWorkflow],
  [['app-token'], async () => (await import('./lazy.js')).registerAppToken],
  [['mayor'], async () => (await import('./lazy.js')).registerMayor],
];
