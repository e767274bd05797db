/**
 * Ports are asked what they can do, never what they are (issue 11): no file under src/
 * reads the `kind` of a forge, rig provider, chat, agent or sandbox, except the one factory that
 * picks an agent from the rig settings. Domain kinds (mail `message.kind`, a convoy's
 * `source.kind`, ledger entity kinds, parsed commands) are not ports and are not matched.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A port's `kind` read through the names ports go by here: `forge`, `provider`, `chat`,
 * `agent` (bare, or as a field: `deps.forge`, `this.chat`), also `?.kind` and `['kind']`.
 * `settings.agent.kind` is the rig settings' choice of agent, which only the factory reads.
 */
const PORT_KIND =
  /(?<![\w$])((?:[\w$]+\??\.)*)(forge|forgePort|provider|rigProvider|chat|chatPort|agent|sandbox)\??(?:\.kind\b|\[\s*['"]kind['"]\s*\])/g;

/** The factories allowed to read a kind: each maps a configured kind to an adapter. */
const FACTORIES = new Set(['src/polecat/runner/agent-from-settings.ts']);

function portKindReads(path: string, text: string): string[] {
  if (FACTORIES.has(path)) return [];
  const found: string[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    // Comments may name what is forbidden.
    if (/^\s*(\/\/|\/?\*)/.test(line)) continue;
    // A kind recorded as a label for people (a cost record's agent), never compared: marked so.
    if (line.trimEnd().endsWith('// kind-as-label') && !/[=!]==?\s*['"]|switch\s*\(/.test(line)) continue;
    for (const m of line.matchAll(PORT_KIND)) {
      if (/(^|\.)settings\??\.$/.test(m[1] ?? '')) continue;
      found.push(`${path}:${n + 1}: ${line.trim()}`);
    }
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

describe('no kind switch on a port', () => {
  it('holds for src/', () => {
    const files = sources(join(ROOT, 'src'));

    const reads = files.flatMap((f) => portKindReads(relative(ROOT, f), readFileSync(f, 'utf8')));

    expect(files.length).toBeGreaterThan(50);
    expect(reads).toEqual([]);
  });

  it('finds a port’s kind however it is read', () => {
    const text = [
      "if (forge.kind !== 'local') await forge.closeIssue(1);",
      "const github = deps.provider?.kind === 'github';",
      'switch (this.chat.kind) {',
      "return opts.agent['kind'] === 'builtin';",
      'const p = rigProvider.kind;',
      "if (agent.kind === 'builtin') return; // kind-as-label",
      "if (found.sandbox.kind === 'user') warn();",
    ].join('\n');

    expect(portKindReads('src/rig/x.ts', text).map((r) => r.split(':')[1])).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('leaves domain kinds, the settings’ agent kind and the agent factory alone', () => {
    const text = [
      "const label = message.kind === 'nudge' ? 'Nudge' : 'Mail';",
      "if (convoy.source?.kind === 'github') return;",
      "bead: t.kind === 'beads' ? t.id : null,",
      'switch (cmd.kind) {',
      "if (parsed.kind === 'invalid') return;",
      'const forgeKind = event.kind;',
      '`${settings.agent.kind} agent`',
      "const chatKind = { kind: 'slack' };",
      "const agentKinds = ['script', 'command'];",
      '// callers never test forge.kind: they read hostsPullRequests',
      ' * (no `provider.kind` switch here)',
      'record({ agent: opts.agent.kind }); // kind-as-label',
    ].join('\n');

    expect(portKindReads('src/cli/commands/init.ts', text)).toEqual([]);
    expect(portKindReads('src/polecat/runner/agent-from-settings.ts', 'switch (agent.kind) {')).toEqual([]);
  });
});
