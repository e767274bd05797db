/**
 * Issue text is data, not instructions. Before it reaches a model we remove everything a
 * person reading the rendered issue would not see, so a reviewer who approves a plan has
 * seen every word the Mayor saw: HTML comments, script/style/template blocks, elements
 * hidden by markup, Markdown "comment" link definitions, and invisible or
 * direction-changing characters. Text GitHub keeps out of the rendered page goes too: link
 * reference definitions (`[x]: url "title"` lines render nothing), link titles and `title` /
 * `alt` attributes (tooltips at most), image alt text (the image is shown, not its alt: an
 * image becomes `[image]`), Mermaid `%%` comments and accessibility texts inside ```mermaid
 * blocks, and LaTeX `\phantom{...}` (typeset as blank space).
 *
 * Markup is removed in one pass over the original text, in document order, the way a
 * renderer parses it; invisible characters are removed afterwards. (Removing characters
 * first would let `<!-- a -\u200B-> b -->` end the comment early and leak `b`.) The
 * Markdown-level constructs go last, once no invisible character can break their syntax.
 *
 * Deliberately conservative: hidden constructs are removed even inside code spans and
 * fenced blocks (where GitHub shows them as text), and an unterminated comment or hidden
 * element swallows the rest of its code region, or of the text. Losing a little visible
 * text is cheaper than passing on hidden text.
 */
export function sanitizeUntrustedText(s: string): string {
  const withoutMarkup = removeHiddenMarkup(s);
  const withoutChars = removeInvisibleCharacters(withoutMarkup);
  const withoutUnrendered = removeUnrenderedMarkdown(withoutChars);
  return withoutUnrendered.replace(/\n{3,}/g, '\n\n').trim();
}

/** Elements whose content browsers never render as text. */
const NON_RENDERED_ELEMENTS = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object']);

/** Elements without content: hiding them hides nothing but the tag itself. */
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

// An HTML comment, including the abrupt `<!-->` / `<!--->` forms and an unterminated one.
const COMMENT = /<!--(?:-?>|[\s\S]*?(?:--!?>|$))/y;
// Processing instructions and CDATA render as (hidden) bogus comments in HTML.
const BOGUS_COMMENT = /<(?:\?|!\[CDATA\[)[\s\S]*?(?:>|$)/y;
const TAG_NAME = /[A-Za-z][A-Za-z0-9:-]*/y;
// Markdown's comment idiom: a link reference definition pointing at `#` renders nothing.
const MARKDOWN_COMMENT_LINE = /^ {0,3}\[[^\]\n]*\]:[ \t]*(?:#|<>)(?:[ \t]+[^\n]*)?$/gm;

function removeHiddenMarkup(text: string): string {
  const src = text.replace(MARKDOWN_COMMENT_LINE, '');
  return scanRegion(newScan(src), 0, true);
}

/**
 * Per-text caches that keep the scan linear on hostile input (thousands of `<a ` with no
 * `>`, backtick runs that never close): what was learnt from one position is reused.
 * A code region gets its own `Scan` over the text up to its end, so answers computed with
 * one end are never reused with another.
 */
interface Scan {
  /** The text, up to the end of the region being scanned. */
  src: string;
  /** Tag-attribute scan results: position (in attribute state) -> index of the closing `>`, or -1. */
  tagEnds: Map<number, number>;
  /** Backtick run length -> position after which no run of that length exists. */
  noCloserAfter: Map<number, number>;
}

function newScan(src: string): Scan {
  return { src, tagEnds: new Map(), noCloserAfter: new Map() };
}

/**
 * Copies `src[from, to)`, dropping hidden constructs. Code spans and fenced code blocks
 * render their content literally, so an issue that mentions `<script>` in backticks must
 * not lose the rest of its text: their content is scanned as a region of its own (without
 * looking for code inside code), where an unterminated construct ends at the region's end.
 * A hidden element's close tag is searched past code regions, which removes at least as
 * much as any renderer hides.
 */
function scanRegion(scan: Scan, from: number, markdown: boolean): string {
  const src = scan.src;
  const to = src.length;
  const interesting = markdown ? /[<`]|(?<=^|\n)[ \t]+`{3}|(?<=^|\n)[ \t]*~{3}/g : /</g;
  let out = '';
  let i = from;
  while (i < to) {
    interesting.lastIndex = i;
    const found = interesting.exec(src);
    if (!found) {
      out += src.slice(i, to);
      break;
    }
    const next = found.index;
    out += src.slice(i, next);
    const code = markdown ? codeRegionAt(scan, src, next) : null;
    if (code) {
      out += src.slice(next, code.contentStart) + scanRegion(newScan(src.slice(0, code.contentEnd)), code.contentStart, false);
      out += src.slice(code.contentEnd, code.end);
      i = code.end;
      continue;
    }
    if (src[next] !== '<') {
      // A backtick run (or tilde line) that opens nothing is literal text, all of it.
      const run = /[ \t]*(?:`+|~+)/y;
      run.lastIndex = next;
      out += run.exec(src)![0];
      i = run.lastIndex;
      continue;
    }
    const construct = markupAt(scan, src, next);
    if (construct.hidden) {
      i = construct.end;
    } else {
      // A visible tag is copied: its attributes are not content to scan again, and those a
      // reader never sees as text (a title tooltip, an alt) are dropped.
      out += withoutUnseenAttributes(src.slice(next, construct.end));
      i = construct.end;
    }
  }
  return out;
}

interface CodeRegion {
  contentStart: number;
  contentEnd: number;
  end: number;
}

const FENCE_OPEN = /[ \t]*(`{3,}|~{3,})[^\n]*(?:\n|$)/y;

/** A fenced code block (at a line start) or an inline code span starting at `at`. */
function codeRegionAt(scan: Scan, src: string, at: number): CodeRegion | null {
  if (at === 0 || src[at - 1] === '\n') {
    FENCE_OPEN.lastIndex = at;
    const open = FENCE_OPEN.exec(src);
    if (open) {
      const fence = open[1]!;
      const contentStart = FENCE_OPEN.lastIndex;
      const close = new RegExp(`^[ \\t]*${fence[0]}{${fence.length},}[ \\t]*$`, 'gm');
      close.lastIndex = contentStart;
      const m = close.exec(src);
      // An unclosed fence runs to the end of the text, as CommonMark renders it.
      if (!m) return { contentStart, contentEnd: src.length, end: src.length };
      return { contentStart, contentEnd: m.index, end: m.index + m[0].length };
    }
  }
  if (src[at] !== '`') return null;
  const run = /`+/y;
  run.lastIndex = at;
  const ticks = run.exec(src)![0].length;
  const contentStart = at + ticks;
  const none = scan.noCloserAfter.get(ticks);
  if (none !== undefined && contentStart >= none) return null;
  // A code span closes on a run of exactly as many backticks, within one paragraph.
  const closer = new RegExp(`(?<!\`)\`{${ticks}}(?!\`)|\\n[ \\t]*\\n`, 'g');
  closer.lastIndex = contentStart;
  const m = closer.exec(src);
  if (!m) {
    scan.noCloserAfter.set(ticks, contentStart);
    return null;
  }
  if (m[0][0] !== '`') return null;
  return { contentStart, contentEnd: m.index, end: m.index + ticks };
}

/** What starts at a `<`: a hidden construct (skip to `end`), a visible tag, or a lone `<`. */
function markupAt(scan: Scan, src: string, at: number): { hidden: boolean; end: number } {
  for (const re of [COMMENT, BOGUS_COMMENT]) {
    re.lastIndex = at;
    if (re.exec(src)) return { hidden: true, end: re.lastIndex };
  }
  const tag = readStartTag(scan, src, at);
  if (!tag) return { hidden: false, end: at + 1 };
  const name = tag.name.toLowerCase();
  const hidden = NON_RENDERED_ELEMENTS.has(name) || isHiddenByAttributes(tag.attrs);
  if (!hidden) return { hidden: false, end: tag.end };
  if (VOID_ELEMENTS.has(name) || tag.selfClosing) return { hidden: true, end: tag.end };
  return { hidden: true, end: matchingCloseEnd(scan, src, name, tag.end) };
}

/**
 * A start tag at `at`, read like an HTML tokenizer does: the name, then attributes up to
 * the first `>` that is not inside a quoted value.
 */
function readStartTag(scan: Scan, src: string, at: number): { name: string; attrs: string; selfClosing: boolean; end: number } | null {
  TAG_NAME.lastIndex = at + 1;
  const name = TAG_NAME.exec(src)?.[0];
  if (!name) return null;
  const attrsStart = at + 1 + name.length;
  const after = src[attrsStart];
  if (after !== undefined && !/[\s/>]/.test(after)) return null;
  const close = attributesEnd(scan, src, attrsStart);
  if (close < 0) return null;
  return { name, attrs: src.slice(attrsStart, close), selfClosing: src[close - 1] === '/', end: close + 1 };
}

function attributesEnd(scan: Scan, src: string, from: number): number {
  const visited: number[] = [];
  let result = -1;
  let i = from;
  while (i < src.length) {
    const known = scan.tagEnds.get(i);
    if (known !== undefined) {
      result = known;
      break;
    }
    visited.push(i);
    const c = src[i]!;
    if (c === '>') {
      result = i;
      break;
    }
    if (c !== '=') {
      i += 1;
      continue;
    }
    let j = i + 1;
    while (j < src.length && /\s/.test(src[j]!)) j += 1;
    const quote = src[j];
    if (quote === '"' || quote === "'") {
      const end = src.indexOf(quote, j + 1);
      if (end < 0) break;
      i = end + 1;
    } else {
      while (j < src.length && !/[\s>]/.test(src[j]!)) j += 1;
      i = j;
    }
  }
  for (const v of visited) scan.tagEnds.set(v, result);
  return result;
}

/** Index just past the close tag matching an open `name` (nesting counted), or the end. */
function matchingCloseEnd(scan: Scan, src: string, name: string, from: number): number {
  const tags = new RegExp(`<(/?)${name}(?=[\\s/>])[^>]*>|\`|(?<=^|\n)[ \\t]+\`{3}|(?<=^|\n)[ \\t]*~{3}`, 'gi');
  tags.lastIndex = from;
  let depth = 1;
  // Raw-text elements (script, style) cannot nest: the first close tag ends them.
  const rawText = NON_RENDERED_ELEMENTS.has(name);
  for (let m = tags.exec(src); m; m = tags.exec(src)) {
    if (!m[0].startsWith('<')) {
      const code = codeRegionAt(scan, src, m.index);
      tags.lastIndex = code ? code.end : m.index + m[0].length;
      continue;
    }
    if (m[1] === '/') depth -= 1;
    else if (!rawText && !m[0].endsWith('/>')) depth += 1;
    if (depth === 0) return tags.lastIndex;
  }
  return src.length;
}

/** Attributes whose text a reader of the page does not see (tooltips, alt text, labels for screen readers). */
const UNSEEN_ATTRIBUTE = /^(?:title|alt|aria-label|aria-description|aria-roledescription|placeholder|data-.*)$/i;

/** A start tag with its unseen attributes removed (`<abbr title="x">` → `<abbr>`); other tags unchanged. */
function withoutUnseenAttributes(tag: string): string {
  const name = /^<[A-Za-z][A-Za-z0-9:-]*/.exec(tag);
  if (!name) return tag;
  const end = tag.endsWith('/>') ? '/>' : '>';
  const attrs = tag.slice(name[0].length, tag.length - end.length);
  const attr = /([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?/g;
  let dropped = false;
  const kept: string[] = [];
  for (const m of attrs.matchAll(attr)) {
    if (UNSEEN_ATTRIBUTE.test(m[1]!)) dropped = true;
    else kept.push(m[0]);
  }
  if (!dropped) return tag;
  return `${name[0]}${kept.map((a) => ` ${a}`).join('')}${end === '/>' ? ' />' : '>'}`;
}

function isHiddenByAttributes(attrs: string): boolean {
  const attr = /([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?/g;
  for (const m of attrs.matchAll(attr)) {
    const name = m[1]!.toLowerCase();
    const value = (m[2] ?? '').replace(/^["']|["']$/g, '');
    if (name === 'hidden') return true;
    if (name === 'style' && isHidingStyle(value)) return true;
  }
  return false;
}

function isHidingStyle(style: string): boolean {
  const css = decodeBasicEntities(style)
    .toLowerCase()
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, '');
  const zero = String.raw`[-+]?0*\.?0+(?:[a-z]+|%)?(?:!important)?(?:;|$)`;
  return (
    /(?:^|;)display:none/.test(css) ||
    /(?:^|;)visibility:(?:hidden|collapse)/.test(css) ||
    new RegExp(`(?:^|;)font-size:${zero}`).test(css) ||
    new RegExp(`(?:^|;)opacity:${zero}`).test(css) ||
    (new RegExp(`(?:^|;)(?:max-)?(?:height|width):${zero}`).test(css) && /overflow:hidden/.test(css))
  );
}

function decodeBasicEntities(s: string): string {
  return s.replace(/&#(?:x([0-9a-f]+)|(\d+));?/gi, (_, hex: string | undefined, dec: string | undefined) =>
    String.fromCodePoint(Math.min(parseInt(hex ?? dec ?? '0', hex ? 16 : 10), 0x10ffff)),
  );
}

/**
 * Characters that render as nothing (or reorder what is shown): format characters (Cf,
 * which covers zero-width spaces and joiners, bidirectional controls, U+FEFF, soft hyphen,
 * word joiners and the tag characters U+E0000-U+E007F), variation selectors (which can
 * smuggle bytes after a visible character), Hangul fillers, the combining grapheme joiner
 * and control characters other than tab and newline.
 */
const INVISIBLE =
  /[\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFFA0\uFE00-\uFE0F\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

/** The same characters written as HTML character references, which GitHub renders. */
const INVISIBLE_ENTITY =
  /&(?:#x([0-9a-f]+)|#(\d+)|(shy|zwj|zwnj|lrm|rlm|ZeroWidthSpace|NoBreak|InvisibleTimes|InvisibleComma|ApplyFunction|it|ic|af));/gi;

function removeInvisibleCharacters(s: string): string {
  const withoutEntities = s.replace(
    INVISIBLE_ENTITY,
    (whole, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
      if (named) return '';
      const code = parseInt(hex ?? dec ?? '', hex ? 16 : 10);
      if (!Number.isFinite(code) || code > 0x10ffff) return whole;
      const ch = String.fromCodePoint(code);
      INVISIBLE.lastIndex = 0;
      return INVISIBLE.test(ch) ? '' : whole;
    },
  );
  // Line and paragraph separators are visible line breaks: keep them as ordinary ones.
  return withoutEntities
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2028\u2029]/g, '\n')
    .replace(INVISIBLE, '');
}

/**
 * Markdown GitHub parses but does not show as text. Applied to the whole text, code included
 * (where GitHub would show it literally): as above, losing a little visible text is cheaper
 * than passing hidden text on.
 */
function removeUnrenderedMarkdown(s: string): string {
  let out = s.replace(
    MERMAID_BLOCK,
    (block: string, open: string, _fence: string, body: string) =>
      open + removeMermaidHidden(body) + block.slice(open.length + body.length),
  );
  out = removePhantoms(out);
  out = out.replace(LINK_REFERENCE_DEFINITION, '');
  out = out.replace(IMAGE, '[image]');
  out = out.replace(INLINE_LINK_TITLE, (_whole, dest: string) => `](${dest})`);
  return out;
}

/**
 * A link reference definition (`[label]: destination "optional title"`, the title possibly on
 * the next line) renders nothing. Footnotes (`[^1]: text`) are rendered, so they stay.
 */
const LINK_REFERENCE_DEFINITION =
  /^ {0,3}\[(?!\^)(?:[^[\]\\\n]|\\.)+\]:[ \t]*\n?[ \t]*(?:<[^<>\n]*>|\S+)(?:(?:[ \t]+|[ \t]*\n[ \t]*)(?:"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\]|\\[\s\S])*'|\((?:[^()\\]|\\[\s\S])*\)))?[ \t]*$\n?/gm;

/** `![alt](src "title")`, `![alt][ref]`, `![alt]`: GitHub shows the picture, never the alt text. */
const IMAGE =
  /!\[(?:[^[\]\\]|\\[\s\S]|\[(?:[^[\]\\]|\\[\s\S])*\])*\](?:\((?:[^()\\]|\\[\s\S]|\((?:[^()\\]|\\[\s\S])*\))*\)|\[(?:[^[\]\\]|\\[\s\S])*\])?/g;

/** An inline link's destination and title: `](url "title")` keeps `](url)`; the title is a tooltip at most. */
const INLINE_LINK_TITLE =
  /\]\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\[\s\S]|\((?:[^\s()\\]|\\[\s\S])*\))*)\s+(?:"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\]|\\[\s\S])*'|\((?:[^()\\]|\\[\s\S])*\))\s*\)/g;

/** A ```mermaid (or ~~~mermaid) fenced block: group 1 its opening line, 2 the fence, 3 its content. */
const MERMAID_BLOCK = /^([ \t]*(`{3,}|~{3,})[ \t]*mermaid\b[^\n]*\n)([\s\S]*?)(?:^[ \t]*\2[`~]*[ \t]*$|(?![\s\S]))/gm;

/**
 * Lines of a Mermaid diagram that are not drawn: `%%` comments and `%%{init: ...}%%`
 * directives, and the accessibility title and description (`accTitle: ...`,
 * `accDescr: ...`, `accDescr { ... }`), which only screen readers get.
 */
function removeMermaidHidden(body: string): string {
  return body.replace(/^[ \t]*accDescr[ \t]*\{[^}]*\}?[ \t]*$\n?/gm, '').replace(/^[ \t]*(?:%%.*|acc(?:Title|Descr)[ \t]*:.*)$\n?/gm, '');
}

/** `\phantom{...}`, `\hphantom{...}`, `\vphantom{...}` (braces balanced): typeset as blank space. */
function removePhantoms(s: string): string {
  const start = /\\[hv]?phantom\s*\{/g;
  let out = '';
  let from = 0;
  for (let m = start.exec(s); m; m = start.exec(s)) {
    let depth = 1;
    let j = start.lastIndex;
    for (; j < s.length && depth > 0; j += 1) {
      if (s[j] === '\\') j += 1;
      else if (s[j] === '{') depth += 1;
      else if (s[j] === '}') depth -= 1;
    }
    out += s.slice(from, m.index);
    from = Math.min(j, s.length);
    start.lastIndex = from;
  }
  return out + s.slice(from);
}
