import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { AgentContext } from './agent.js';
import { resolveForWrite, resolveInWorkspace, ToolError } from './safe-path.js';

/** The tools the built-in agent offers the model. Input schemas are what the model sees. */
export const BUILTIN_TOOLS: Anthropic.Tool[] = [
  {
    name: 'list_files',
    description: 'List files under a directory of the workspace (recursive, .git skipped).',
    input_schema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Directory relative to the workspace; default "."' } },
    },
  },
  {
    name: 'read_file',
    description: 'Read a text file of the workspace.',
    input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
  {
    name: 'search',
    description: 'Find lines containing a literal string in the workspace files (case-sensitive). Returns path:line: text.',
    input_schema: {
      type: 'object',
      properties: { query: { type: 'string' }, path: { type: 'string', description: 'Directory to search; default "."' } },
      required: ['query'],
    },
  },
  {
    name: 'write_file',
    description: 'Create or overwrite a file with the given content (parent directories are created).',
    input_schema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] },
  },
  {
    name: 'edit_file',
    description: 'Replace one exact occurrence of old_string with new_string in a file. old_string must occur exactly once.',
    input_schema: {
      type: 'object',
      properties: { path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' } },
      required: ['path', 'old_string', 'new_string'],
    },
  },
  {
    name: 'run_command',
    description:
      'Run a shell command with bash -c in the workspace root (time-limited, output capped, no network unless the rig allows it). Do not commit or push.',
    input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
  {
    name: 'finish',
    description: 'Call once the bead is done (or cannot be done), with a short summary of the change and how it was checked.',
    input_schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  },
];

export interface ToolRunContext {
  /** The workspace's real path: the file tools work here, in this process. */
  workspace: string;
  /** run_command goes through the runner's sandbox. */
  exec: AgentContext['exec'];
  commandTimeoutMs: number;
  outputCapBytes: number;
}

export interface ToolOutcome {
  content: string;
  isError: boolean;
  /** The tool wrote to the workspace (write_file / edit_file). */
  wrote: boolean;
  /** The tool ran a command, which may have changed files. */
  ranCommand: boolean;
  /** Set by finish. */
  finishSummary?: string;
}

const LIST_LIMIT = 2000;
const SEARCH_LIMIT = 200;
const MAX_SEARCH_FILE_BYTES = 1024 * 1024;
const MAX_EDIT_FILE_BYTES = 8 * 1024 * 1024;

/** Runs one tool call. Model mistakes (bad paths, bad input) come back as isError, never thrown. */
export async function runBuiltinTool(name: string, input: unknown, ctx: ToolRunContext): Promise<ToolOutcome> {
  const base: ToolOutcome = { content: '', isError: false, wrote: false, ranCommand: false };
  try {
    const args = (input ?? {}) as Record<string, unknown>;
    switch (name) {
      case 'list_files': {
        const dir = await resolveInWorkspace(ctx.workspace, str(args, 'path', '.'));
        const files = await walk(dir, LIST_LIMIT);
        const rel = files.map((f) => path.relative(ctx.workspace, f) || '.');
        return {
          ...base,
          content: rel.length === 0 ? '(no files)' : rel.join('\n') + (rel.length >= LIST_LIMIT ? '\n[list truncated]' : ''),
        };
      }
      case 'read_file': {
        const file = await regularFile(await resolveInWorkspace(ctx.workspace, str(args, 'path')), str(args, 'path'));
        return { ...base, content: await readCapped(file, ctx.outputCapBytes) };
      }
      case 'search':
        return { ...base, content: await search(ctx, str(args, 'query'), str(args, 'path', '.')) };
      case 'write_file': {
        const content = str(args, 'content', undefined, true);
        await writeNoFollow(await resolveForWrite(ctx.workspace, str(args, 'path')), content);
        return { ...base, wrote: true, content: `wrote ${Buffer.byteLength(content)} bytes to ${str(args, 'path')}` };
      }
      case 'edit_file': {
        const file = await resolveForWrite(ctx.workspace, str(args, 'path'));
        const oldString = str(args, 'old_string');
        const newString = str(args, 'new_string', undefined, true);
        await regularFile(file, str(args, 'path'));
        if ((await stat(file)).size > MAX_EDIT_FILE_BYTES)
          throw new ToolError(`${str(args, 'path')} is larger than ${MAX_EDIT_FILE_BYTES} bytes; edit it with run_command`);
        const text = await readFile(file, 'utf8');
        const count = text.split(oldString).length - 1;
        if (count !== 1) throw new ToolError(`old_string occurs ${count} times in ${str(args, 'path')}; it must occur exactly once`);
        const at = text.indexOf(oldString);
        await writeNoFollow(file, text.slice(0, at) + newString + text.slice(at + oldString.length));
        return { ...base, wrote: true, content: `edited ${str(args, 'path')}` };
      }
      case 'run_command': {
        const command = str(args, 'command');
        // One pipe for both streams, so the agent reads errors where they happened: two pipes drained
        // separately interleave by scheduling, not by order.
        const result = await ctx.exec(['bash', '-c', `exec 2>&1\n${command}`], {
          timeoutMs: ctx.commandTimeoutMs,
          outputCapBytes: ctx.outputCapBytes,
        });
        const status = result.timedOut ? `timed out after ${ctx.commandTimeoutMs} ms` : `exit code ${result.exitCode ?? result.signal}`;
        const cut = result.truncatedBytes > 0 ? `[${result.truncatedBytes} earlier bytes cut]\n` : '';
        return { ...base, ranCommand: true, isError: result.exitCode !== 0, content: `${status}\n${cut}${result.output}` };
      }
      case 'finish': {
        const summary = str(args, 'summary');
        return { ...base, content: 'finished', finishSummary: summary };
      }
      default:
        throw new ToolError(`unknown tool ${name}`);
    }
  } catch (err) {
    if (err instanceof ToolError) return { ...base, isError: true, content: err.message };
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP') {
      return { ...base, isError: true, content: `${code}: ${(err as Error).message}` };
    }
    throw err;
  }
}

function str(args: Record<string, unknown>, key: string, fallback?: string, allowEmpty = false): string {
  const value = args[key];
  if (typeof value === 'string' && (allowEmpty || value !== '')) return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw new ToolError(`input.${key} must be a ${allowEmpty ? '' : 'non-empty '}string`);
}

/** The file, when it is a regular file (a FIFO or device would block or never end). */
async function regularFile(file: string, requested: string): Promise<string> {
  if (!(await stat(file)).isFile()) throw new ToolError(`${requested} is not a regular file`);
  return file;
}

/** At most `bytes` of the file, read as text, marked when cut (never the whole of a huge file). */
async function readCapped(file: string, bytes: number): Promise<string> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(bytes + 1);
    const { bytesRead } = await fh.read(buf, 0, bytes + 1, 0);
    if (bytesRead <= bytes) return buf.subarray(0, bytesRead).toString('utf8');
    return `${buf.subarray(0, bytes).toString('utf8')}\n[truncated at ${bytes} bytes]`;
  } finally {
    await fh.close();
  }
}

/** Writes a file whose path resolveForWrite checked; O_NOFOLLOW refuses a symlink planted since. */
async function writeNoFollow(file: string, content: string): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

/** Regular files under `dir` (no .git, no symlink following), at most `limit`. */
async function walk(dir: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  const stack = [dir];
  const top = await lstat(dir);
  if (!top.isDirectory()) return [dir];
  while (stack.length > 0 && out.length < limit) {
    const current = stack.pop()!;
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => b.name.localeCompare(a.name));
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) out.push(full);
    }
  }
  return out.sort().slice(0, limit);
}

async function search(ctx: ToolRunContext, query: string, under: string): Promise<string> {
  const dir = await resolveInWorkspace(ctx.workspace, under);
  const hits: string[] = [];
  for (const file of await walk(dir, 20_000)) {
    const info = await lstat(file);
    if (info.size > MAX_SEARCH_FILE_BYTES) continue;
    const buf = await readFile(file);
    if (buf.includes(0)) continue; // binary
    const lines = buf.toString('utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.includes(query)) continue;
      hits.push(`${path.relative(ctx.workspace, file)}:${i + 1}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
      if (hits.length >= SEARCH_LIMIT) return `${hits.join('\n')}\n[more matches not shown]`;
    }
  }
  return hits.length === 0 ? `no matches for ${JSON.stringify(query)}` : hits.join('\n');
}
