// The members of a top-level JSON object in file order, with the line each key is on.
// JSON.parse cannot give that order: JavaScript objects list integer-like keys (PubMedQA's PMIDs) in
// ascending numeric order, whatever the file says. Only for text JSON.parse has already accepted, so
// this scanner never has to diagnose bad JSON.

export interface JsonMember {
  key: string;
  /** 1-based line of the key. */
  line: number;
  /** The member's value as text: JSON.parse(text.slice(start, end)). */
  start: number;
  end: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** End (exclusive) of the string literal opening at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** End (exclusive) of the value starting at `i`. */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const d = text[j]!;
      if (d === '"') {
        j = stringEnd(text, j);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return j;
  }
  let j = i;
  while (j < text.length && !WHITESPACE.has(text[j]!) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j++;
  return j;
}

/**
 * The members of the object `text` holds (valid JSON whose top level is an object), in file order,
 * repeated keys included (JSON.parse would keep only the last).
 */
export function topLevelMembers(text: string): JsonMember[] {
  const members: JsonMember[] = [];
  let line = 1;
  let counted = 0;
  const lineAt = (offset: number) => {
    for (; counted < offset; counted++) if (text.charCodeAt(counted) === 10) line++;
    return line;
  };
  const skip = (i: number) => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
    return i;
  };
  let i = skip(text.indexOf('{') + 1);
  while (i < text.length && text[i] === '"') {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const keyLine = lineAt(i);
    const start = skip(skip(keyEnd) + 1); // past the ':'
    const end = valueEnd(text, start);
    members.push({ key, line: keyLine, start, end });
    i = skip(end);
    if (text[i] === ',') i = skip(i + 1);
  }
  return members;
}
