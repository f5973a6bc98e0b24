// Constrained decoding for the ONNX runner: the reply must be exactly one of a few allowed strings
// ("Answer: A" ... "Answer: E"), what a GBNF grammar does in llama.cpp and guided choice in vLLM.
// Matching is on bytes, not characters, so byte-level tokens that hold part of a UTF-8 character and
// tokens spanning several characters are both handled: a token is allowed when the bytes produced so far
// plus its bytes are still a prefix of some allowed string.
import { InputError } from '../core/errors.js';

/** Every token's bytes, indexed by first byte so a step only looks at tokens that can fit. */
export class TokenByteIndex {
  private readonly byFirstByte: number[][] = Array.from({ length: 256 }, () => []);

  /** @param bytes the bytes each token id adds to the text (null: never allowed, e.g. special tokens) */
  constructor(readonly bytes: readonly (Uint8Array | null)[]) {
    for (let id = 0; id < bytes.length; id++) {
      const b = bytes[id];
      // A token that adds no text would let constrained decoding loop without progress.
      if (b && b.length > 0) this.byFirstByte[b[0]].push(id);
    }
  }

  /** Token ids whose bytes start with `first`, ascending. */
  startingWith(first: number): readonly number[] {
    return this.byFirstByte[first];
  }
}

export interface AnswerConstraint {
  letters: string[];
  prefix: string;
}

/** Checks a request's `constrain` field: at least one letter, no empty or duplicate letter. */
export function allowedReplies(c: AnswerConstraint): string[] {
  if (!Array.isArray(c.letters) || c.letters.length === 0) {
    throw new InputError('constrain.letters is empty: there is no reply to constrain to', { field: 'constrain.letters' },
      'give the item at least one option letter');
  }
  const bad = c.letters.find((l) => typeof l !== 'string' || l.length === 0);
  if (bad !== undefined) {
    throw new InputError(`constrain.letters holds an empty or non-string letter (${JSON.stringify(bad)})`, { field: 'constrain.letters' },
      'option letters are non-empty strings such as "A"');
  }
  return [...new Set(c.letters.map((l) => c.prefix + l))];
}

/** The state of one constrained generation: which replies are still possible and which tokens may come next. */
export class ConstrainedReply {
  private readonly targets: Uint8Array[];
  private readonly produced: number[] = [];
  /** Indexes of the targets the bytes so far are a prefix of. */
  private alive: number[];
  private completed: string | null = null;

  constructor(private readonly index: TokenByteIndex, private readonly replies: string[]) {
    const utf8 = new TextEncoder();
    this.targets = replies.map((r) => utf8.encode(r));
    this.alive = this.targets.map((_, i) => i);
  }

  /** The allowed reply produced in full, or null while still on the way. */
  get done(): string | null {
    return this.completed;
  }

  /**
   * Token ids (ascending, below `vocabSize`) that keep the output a prefix of an allowed reply. EOS is
   * never among them: generation stops as soon as a reply is complete, which is the only time EOS could come.
   */
  allowedTokens(vocabSize: number): number[] {
    const at = this.produced.length;
    const firstBytes = new Set(this.alive.filter((t) => this.targets[t].length > at).map((t) => this.targets[t][at]));
    const ids: number[] = [];
    for (const first of firstBytes) {
      for (const id of this.index.startingWith(first)) {
        if (id < vocabSize && this.fits(this.index.bytes[id]!, at)) ids.push(id);
      }
    }
    return firstBytes.size > 1 ? ids.sort((a, b) => a - b) : ids;
  }

  /** Record the token chosen; it must be one allowedTokens() gave. */
  push(id: number): void {
    const bytes = this.index.bytes[id];
    const at = this.produced.length;
    if (!bytes || !this.fits(bytes, at)) throw new Error(`token ${id} does not continue any allowed reply`);
    this.produced.push(...bytes);
    const end = this.produced.length;
    this.alive = this.alive.filter((t) => this.matches(this.targets[t], bytes, at));
    const full = this.alive.find((t) => this.targets[t].length === end);
    if (full !== undefined) this.completed = this.replies[full];
  }

  /** Whether `bytes` placed at `at` keeps the output a prefix of some living target. */
  private fits(bytes: Uint8Array, at: number): boolean {
    return this.alive.some((t) => this.matches(this.targets[t], bytes, at));
  }

  private matches(target: Uint8Array, bytes: Uint8Array, at: number): boolean {
    if (at + bytes.length > target.length) return false;
    for (let i = 0; i < bytes.length; i++) if (target[at + i] !== bytes[i]) return false;
    return true;
  }
}
