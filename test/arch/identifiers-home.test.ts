/**
 * Identifiers have one home (issue 11): hidden markers, commit trailers, polecat branch names
 * and id patterns are built and parsed in src/town/ids.ts only. A second copy drifts (the
 * rig once took a 3-character convoy id that Slack refused); this check finds one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const HOME = 'src/town/ids.ts';

/** What only the home may spell out: a marker's text, a trailer's name, a branch or id pattern. */
const COPIES: Array<[string, RegExp]> = [
  ['hidden marker', /<!-- gastown:/],
  ['commit trailer', /['"`]Gastown-(Bead|Polecat)['"`:]/],
  ['polecat branch', /`polecat\/\$\{/],
  ['id pattern', /\/\^?(gt|cv|m)-\[/],
];

export function identifierCopies(path: string, text: string): string[] {
  if (path === HOME) return [];
  const found: string[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    // Comments may show what an identifier looks like.
    if (/^\s*(\/\/|\/?\*)/.test(line)) continue;
    for (const [what, re] of COPIES) if (re.test(line)) found.push(`${path}:${n + 1}: ${what}: ${line.trim()}`);
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

describe('identifiers in one home', () => {
  it('holds for src/', () => {
    const files = sources(join(ROOT, 'src'));

    const copies = files.flatMap((f) => identifierCopies(relative(ROOT, f), readFileSync(f, 'utf8')));

    expect(files.length).toBeGreaterThan(50);
    expect(copies).toEqual([]);
  });

  it('finds each kind of copy, and leaves comments and the home alone', () => {
    const text = [
      'body += `<!-- gastown:landed ${id} -->`;',
      "const trailers = { 'Gastown-Bead': bead.id };",
      'const branch = `polecat/${name}/${bead}`;',
      "if (!/^cv-[0-9a-z]{3,}$/.test(id)) throw new Error('bad');",
      ' * a marker like `<!-- gastown:bead gt-1a2b -->`',
      '// `polecat/${name}/${bead}` is made in town/ids.ts',
      'const marker = beadMarker(bead.id);',
    ].join('\n');

    expect(identifierCopies('src/rig/x.ts', text).map((r) => r.split(': ')[1])).toEqual([
      'hidden marker',
      'commit trailer',
      'polecat branch',
      'id pattern',
    ]);
    expect(identifierCopies(HOME, text)).toEqual([]);
  });
});
