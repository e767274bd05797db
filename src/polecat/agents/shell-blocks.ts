const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);

/**
 * The fenced ```sh / ```bash / ```shell blocks of a Markdown text, in order. Other fenced
 * blocks are skipped whole, so a shell fence quoted inside, say, a ```md block is not run;
 * so are fences inside a `<details>` section, which a reviewer skimming the text does not
 * see unfolded (the checklist planner already leaves them out of descriptions; this holds
 * for any bead body).
 */
export function shellBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const lines = markdown.split(/\r?\n/);
  let fence: { char: string; len: number; shell: boolean; body: string[] } | null = null;
  let detailsDepth = 0;
  for (const line of lines) {
    if (fence === null) {
      const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
      if (open) {
        const marker = open[1]!;
        const lang = (open[2] ?? '').toLowerCase();
        fence = { char: marker[0]!, len: marker.length, shell: SHELL_LANGS.has(lang) && detailsDepth === 0, body: [] };
      } else {
        detailsDepth = Math.max(
          0,
          detailsDepth + (line.match(/<details\b/gi)?.length ?? 0) - (line.match(/<\/details\s*>/gi)?.length ?? 0),
        );
      }
      continue;
    }
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
    if (close && close[1]![0] === fence.char && close[1]!.length >= fence.len) {
      if (fence.shell && fence.body.join('').trim() !== '') blocks.push(fence.body.join('\n'));
      fence = null;
      continue;
    }
    fence.body.push(line);
  }
  return blocks;
}
