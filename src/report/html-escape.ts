// Escaping for report.html. Dataset and model text (questions, item ids, labels, paths) is untrusted:
// it goes into the page only through these two functions.
import { jsonChunks } from './json-chunks.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON for a <script type="application/json"> block: `<`, `>` and `&` as \u escapes so no
 * `</script>` or `<!--` can end or confuse the block, and U+2028/U+2029 escaped for old JS parsers.
 * JSON.parse of the block's text gives back the original value.
 */
export function jsonForScript(value: unknown): string {
  return scriptSafe(JSON.stringify(value));
}

function scriptSafe(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** jsonForScript's text in pieces (each escaped on its own: the escapes are of single characters). */
export function* jsonForScriptPieces(value: unknown): Generator<string> {
  for (const piece of jsonChunks(value)) yield scriptSafe(piece);
}
