import type { Command } from 'commander';
import { readMail } from '../../rig/mail.js';
import { actorOf, withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';

export function registerMail(program: Command, ctx: CliContext): void {
  const mail = program.command('mail').description('messages between people and agents');
  mail
    .command('send <to>')
    .description('send mail to an agent or person')
    .requiredOption('--subject <s>', 'subject')
    .option('--body <b>', 'body')
    .action(async (to: string, o: { subject: string; body?: string }, cmd: Command) => {
      const m = await withTown(ctx, (town, rig) => town.sendMail(rig.actor, to, o.subject, o.body));
      emit(ctx, wantsJson(cmd), m, () => `sent ${m.id} to ${m.to}`);
    });
  mail
    .command('inbox [agent]')
    .description('messages in an inbox (yours when none is named)')
    .action(async (agent: string | undefined, _o: unknown, cmd: Command) => {
      const who = agent ?? actorOf(ctx);
      const items = await withTown(ctx, (town) => town.inbox(who));
      emit(ctx, wantsJson(cmd), items, () =>
        items.length
          ? table(items.map((m) => [m.read ? ' ' : '*', m.id, m.kind, m.from, m.createdAt.slice(0, 16).replace('T', ' '), m.subject]))
          : `${who}'s inbox is empty`,
      );
    });
  mail
    .command('read <id>')
    .description('read one message (marks it read)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const m = await withRig(ctx, (rig) => readMail(rig, id));
      emit(ctx, wantsJson(cmd), m, () =>
        [`from:    ${m.from}`, `to:      ${m.to}`, `date:    ${m.createdAt}`, `subject: ${m.subject}`, '', m.body].join('\n'),
      );
    });
  program
    .command('nudge <agent> <message...>')
    .description('a short message a working polecat sees at its next turn')
    .action(async (agent: string, words: string[], _o: unknown, cmd: Command) => {
      const m = await withTown(ctx, (town, rig) => town.nudge(rig.actor, agent, words.join(' ')));
      emit(ctx, wantsJson(cmd), m, () => `nudged ${agent}`);
    });
}
