/**
 * A message's body as content, rendered twice: as plain text and as HTML, so the two always say the
 * same thing. A body is paragraphs; a paragraph is pieces of text (a "\n" in one is a line break)
 * and links. Text pieces are already reduced (format.ts `line`); the HTML escapes every one of them
 * and every link, so nothing in the data becomes markup.
 */

/** An absolute link on this service, shown as its address in both forms. */
export interface Link {
  readonly href: string;
}

export type Piece = string | Link;
/** One piece or several; null paragraphs are left out. */
export type Paragraph = Piece | Piece[];

export interface Body {
  readonly paragraphs: Piece[][];
}

/** Paragraphs separated by blank lines; absent (null) ones left out. */
export function body(...paragraphs: (Paragraph | null)[]): Body {
  return { paragraphs: paragraphs.filter((paragraph): paragraph is Paragraph => paragraph !== null).map((paragraph) => (Array.isArray(paragraph) ? paragraph : [paragraph])) };
}

/** The plain-text form: links as their address, paragraphs separated by a blank line, a final newline. */
export function toText({ paragraphs }: Body): string {
  return paragraphs.map((pieces) => pieces.map((piece) => (typeof piece === "string" ? piece : piece.href)).join("")).join("\n\n") + "\n";
}

/** The HTML form: a small standalone document, one <p> per paragraph, line breaks as <br>, links as <a>. */
export function toHtml(subject: string, { paragraphs }: Body): string {
  const content = paragraphs
    .map((pieces) => {
      const inner = pieces
        .map((piece) => (typeof piece === "string" ? escapeHtml(piece).replaceAll("\n", "<br>\n") : `<a href="${escapeHtml(piece.href)}">${escapeHtml(piece.href)}</a>`))
        .join("");
      return `<p>${inner}</p>`;
    })
    .join("\n");
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>' +
    escapeHtml(subject) +
    '</title></head>\n<body style="font-family: sans-serif; line-height: 1.5;">\n' +
    content +
    "\n</body>\n</html>\n"
  );
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe inside HTML elements and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}
