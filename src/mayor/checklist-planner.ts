import { GastownError } from '../errors.js';
import { validatePlan } from '../town/plan.js';
import type { Plan, PlanBead } from '../town/types.js';
import { PlanSchema } from './plan-schema.js';

/**
 * The planner that needs no model: a Markdown task list is the plan.
 *
 *   - [ ] Add the parser
 *     Details, indented under the task, become its description
 *     (fenced code blocks included, verbatim).
 *   - [ ] Wire the CLI (after 1)
 *
 * Each task (`- [ ]`, `* [ ]`, `+ [ ]`; checked `[x]` counts too) becomes a bead keyed by
 * its 1-based position. `(after 1, 3)` at the end of a task line names its blockers.
 * Task lines inside fenced code blocks are not tasks, and a task line indented under
 * another task is part of that task's description.
 *
 * A fenced block inside a `<details>` section is left out of the description (a line says
 * so): the script agent runs a bead's fenced shell blocks, and a reviewer skimming the issue
 * does not see what is folded away. Callers pass text through `sanitizeUntrustedText`
 * first (`planGoal` does), so hidden text never becomes a task either.
 */
export function planFromChecklist(text: string, opts: { maxBeads: number; title?: string }): Plan {
  const tasks = readTasks(text);
  if (tasks.length === 0) {
    throw new GastownError('gastown_plan_invalid', 'The checklist has no task lines (expected lines like "- [ ] Do something").', {
      errors: ['no task lines'],
    });
  }

  const problems: string[] = [];
  const beads: PlanBead[] = tasks.map((task, i) => {
    const position = i + 1;
    const { title, blockers, problem } = splitAfterClause(task.line);
    if (problem) problems.push(`task ${position}: ${problem}`);
    if (!title) problems.push(`task ${position} has no title`);
    for (const b of blockers) {
      if (b === position) problems.push(`task ${position} cannot come after itself`);
      else if (b < 1 || b > tasks.length) {
        problems.push(`task ${position} comes after task ${b}, but there are only ${tasks.length} tasks`);
      }
    }
    return {
      key: String(position),
      title,
      description: dedent(task.details),
      acceptance: [],
      files: [],
      blockedBy: blockers.map(String),
    };
  });
  if (problems.length > 0) throw invalid(problems);

  const plan: Plan = { summary: opts.title?.trim() || `Checklist of ${beads.length} tasks`, beads };
  const parsed = PlanSchema.safeParse(plan);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'plan'}: ${issue.message}`));
  }
  const errors = validatePlan(plan, { maxBeads: opts.maxBeads });
  if (errors.length > 0) throw invalid(errors);
  return plan;
}

function invalid(errors: string[]): GastownError {
  return new GastownError('gastown_plan_invalid', `The checklist is not a valid plan: ${errors.join('; ')}`, { errors });
}

interface RawTask {
  /** The task line's text after the checkbox. */
  line: string;
  details: string[];
}

const TASK_LINE = /^([ \t]*)[-*+][ \t]+\[[ xX]\][ \t]+(.*)$/;
const FENCE = /^[ \t]*(`{3,}|~{3,})/;
export const FOLDED_CODE_NOTE = '(a code block inside a collapsed "details" section was left out)';

function readTasks(text: string): RawTask[] {
  const tasks: RawTask[] = [];
  let current: (RawTask & { indent: number }) | null = null;
  let fence: string | null = null;
  /** Whether the open fence is inside `<details>`: its lines are not copied. */
  let folded = false;
  /** How many `<details>` sections are open at this line (tags inside fences do not count). */
  let detailsDepth = 0;

  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (fence !== null) {
      // Inside a fence every line is content, whatever it looks like.
      if (!folded) current?.details.push(line);
      if (isFenceClose(line, fence)) fence = null;
      continue;
    }
    const opens = FENCE.exec(line);
    const task = TASK_LINE.exec(line);
    const indent = leadingWidth(line);
    if (!opens)
      detailsDepth = Math.max(0, detailsDepth + (line.match(/<details\b/gi)?.length ?? 0) - (line.match(/<\/details\s*>/gi)?.length ?? 0));
    folded = opens !== null && detailsDepth > 0;

    if (task && !opens && (current === null || indent <= current.indent)) {
      current = { line: task[2]!, details: [], indent };
      tasks.push(current);
      continue;
    }
    if (current !== null && (line.trim() === '' || indent > current.indent)) {
      current.details.push(folded ? `${/^[ \t]*/.exec(line)![0]}${FOLDED_CODE_NOTE}` : line);
      if (opens) fence = opens[1]!;
      continue;
    }
    // Prose outside a task ends it; a fence there still hides its task-like lines.
    current = null;
    if (opens) fence = opens[1]!;
  }
  return tasks;
}

function isFenceClose(line: string, fence: string): boolean {
  const m = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(line);
  return m !== null && m[1]![0] === fence[0] && m[1]!.length >= fence.length;
}

/** Tabs count as 4 columns, as in CommonMark list indentation. */
function leadingWidth(line: string): number {
  const ws = /^[ \t]*/.exec(line)![0];
  return [...ws].reduce((w, c) => w + (c === '\t' ? 4 - (w % 4) : 1), 0);
}

const AFTER_CLAUSE = /\s*\(\s*after\b([^()]*)\)\s*$/i;

function splitAfterClause(line: string): { title: string; blockers: number[]; problem: string | null } {
  const m = AFTER_CLAUSE.exec(line);
  if (!m) return { title: line.trim(), blockers: [], problem: null };
  const title = line.slice(0, m.index).trim();
  const refs = m[1]!.trim();
  if (!/^#?\d+(?:\s*(?:,|\band\b|\s)\s*#?\d+)*$/i.test(refs)) {
    return {
      title,
      blockers: [],
      problem: `cannot read "(after${m[1]})": name earlier tasks by position, like "(after 1, 3)"`,
    };
  }
  const blockers = [...new Set((refs.match(/\d+/g) ?? []).map(Number))];
  return { title, blockers, problem: null };
}

/** Removes the indentation common to all non-blank lines, and blank lines at either end. */
function dedent(lines: string[]): string {
  const nonBlank = lines.filter((l) => l.trim() !== '');
  if (nonBlank.length === 0) return '';
  let common = /^[ \t]*/.exec(nonBlank[0]!)![0];
  for (const l of nonBlank) {
    while (!l.startsWith(common)) common = common.slice(0, -1);
  }
  const out = lines.map((l) => (l.startsWith(common) ? l.slice(common.length) : l.trimStart()));
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out.join('\n');
}
