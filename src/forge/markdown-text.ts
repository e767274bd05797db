/**
 * Text from the model and from issues is data: before it is echoed into GitHub Markdown it
 * must not ping people, close issues by keyword or smuggle hidden markers.
 */

/** `@name` → `` `@name` `` so rendering an untrusted text never notifies anyone. */
export function neutraliseMentions(text: string): string {
  return text.replace(/(^|[^\w`])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9._-]+)?)/g, '$1`@$2`');
}

/** Removes HTML comments (they could fake our hidden markers) and invisible characters. */
export function stripHidden(text: string): string {
  return text.replace(/<!--[\s\S]*?(-->|$)/g, '').replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD]/g, '');
}

/** A single line fit for a checklist item or a title: no newlines, no markers, no pings. */
export function inlineText(text: string, max = 200): string {
  const line = neutraliseMentions(stripHidden(text)).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A block of untrusted Markdown: hidden content stripped, mentions neutralised. */
export function blockText(text: string): string {
  return neutraliseMentions(stripHidden(text)).trim();
}

/** `inlineText` for Markdown: `<` and `>` escaped so a title cannot open an HTML tag. */
export function markdownInline(text: string, max = 200): string {
  return inlineText(text, max).replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
