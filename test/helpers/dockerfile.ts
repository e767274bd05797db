/**
 * Just enough of a Dockerfile reader for the image test: instructions per stage (line
 * continuations joined, comments dropped), ENV pairs, exec-form (JSON) commands, COPY
 * sources and destinations. Shell-form commands are refused: the image uses exec form so
 * signals reach node.
 */
export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (pending && line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending) lines.push(pending.trim());
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`bad FROM: ${args}`);
      stages.push({ from: from[1]!, name: from[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`${op} before FROM`);
    stage.instructions.push({ op, args });
  }
  return stages;
}

/** The last value of an instruction in a stage (WORKDIR, USER), or null. */
export function last(stage: Stage, op: string): string | null {
  const found = stage.instructions.filter((i) => i.op === op);
  return found.length ? found[found.length - 1]!.args : null;
}

/** Every `ENV key=value` pair of a stage, in order (values unquoted; no variable expansion). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.op === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const value = m[2]!;
      env[m[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
  }
  return env;
}

/** An exec-form command (`["node", "bin/start.js"]`). */
export function execForm(args: string): string[] {
  if (!args.startsWith('[')) throw new Error(`not exec form (JSON): ${args}`);
  const argv = JSON.parse(args) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string') || argv.length === 0) throw new Error(`bad exec form: ${args}`);
  return argv as string[];
}

/** ENTRYPOINT then CMD, as the container runs them. */
export function startCommand(stage: Stage): string[] {
  const entry = last(stage, 'ENTRYPOINT');
  const cmd = last(stage, 'CMD');
  return [...(entry ? execForm(entry) : []), ...(cmd ? execForm(cmd) : [])];
}

/** HEALTHCHECK's command (options such as --interval dropped). */
export function healthcheck(stage: Stage): string[] | null {
  const hc = last(stage, 'HEALTHCHECK');
  if (!hc) return null;
  const m = /^(?:--\S+\s+)*CMD\s+([\s\S]+)$/.exec(hc);
  if (!m) throw new Error(`bad HEALTHCHECK: ${hc}`);
  return execForm(m[1]!.trim());
}

export interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | null = null;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift()!;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
      }
      const dest = words.pop()!;
      return { from, sources: words, dest };
    });
}
