// Tokenizer and chat template of a local model folder through transformers.js (never the Hub), and the
// streaming detokenizer the token loop uses to turn each new token into the text it adds.
import { basename, dirname } from 'node:path';
import { InputError } from '../core/errors.js';
import { importOptional } from '../core/optional-package.js';
import type { ChatMessage } from '../core/types.js';

export interface LocalTokenizer {
  readonly hasChatTemplate: boolean;
  readonly eosTokenId: number | null;
  /** One more than the largest token id the tokenizer can produce (vocabulary and added tokens). */
  readonly idCount: number;
  /** The conversation as prompt text: the chat template with the generation prompt, else plain text. */
  render(messages: ChatMessage[]): string;
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: number[]): string;
  /**
   * The bytes each token id adds to decoded text, indexed by id (for constrained decoding); null for
   * special tokens and tokens whose bytes cannot be told. Computed on every call: cache the result.
   */
  tokenBytes(): (Uint8Array | null)[];
}

// transformers.js reads its folder from a global (env.localModelPath); loads are queued so two runners
// loading at once cannot see each other's folder.
let loadQueue: Promise<unknown> = Promise.resolve();

export async function loadLocalTokenizer(modelDir: string): Promise<LocalTokenizer> {
  const run = loadQueue.then(() => loadNow(modelDir));
  loadQueue = run.catch(() => undefined);
  return run;
}

async function loadNow(modelDir: string): Promise<LocalTokenizer> {
  const { AutoTokenizer, env } = await importOptional('@huggingface/transformers', () => import('@huggingface/transformers'));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(modelDir) + '/';
  let tok: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  try {
    tok = await AutoTokenizer.from_pretrained(basename(modelDir), { local_files_only: true });
  } catch (e) {
    throw new InputError(`transformers.js could not load the tokenizer in ${modelDir}: ${(e as Error).message}`, { field: 'modelDir' },
      'the folder needs tokenizer.json and tokenizer_config.json from the original model');
  }
  let hasChatTemplate = false;
  try {
    hasChatTemplate = Boolean(tok.get_chat_template());
  } catch {
    hasChatTemplate = false; // transformers.js throws when the model has no template
  }
  const eos = (tok as unknown as { eos_token_id?: number }).eos_token_id;
  let idCount = 0;
  for (const id of tok.get_vocab().values()) idCount = Math.max(idCount, id + 1);
  for (const id of tok._tokenizer.get_added_tokens_decoder().keys()) idCount = Math.max(idCount, id + 1);
  return {
    hasChatTemplate,
    eosTokenId: typeof eos === 'number' ? eos : null,
    idCount,
    render(messages) {
      if (!hasChatTemplate) return messages.map((m) => m.content).join('\n\n');
      return tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as unknown as string;
    },
    encode(text, addSpecialTokens) {
      // A chat template writes BOS itself; adding special tokens again would double it.
      return tok.encode(text, { add_special_tokens: addSpecialTokens });
    },
    decode(ids) {
      return ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: true });
    },
    tokenBytes() {
      return tokenBytesOf(tok);
    },
  };
}

type HfTokenizer = Awaited<ReturnType<typeof import('@huggingface/transformers').AutoTokenizer.from_pretrained>>;
/** The parts of a tokenizers.js decoder read here (ByteLevel keeps its byte table, Sequence its children). */
interface DecoderParts {
  config?: { type?: string };
  byte_decoder?: Record<string, number>;
  decoders?: DecoderParts[];
}

const BYTE_FALLBACK_RE = /^<0x([0-9A-Fa-f]{2})>$/;

function tokenBytesOf(tok: HfTokenizer): (Uint8Array | null)[] {
  const inner = tok._tokenizer;
  const vocab = tok.get_vocab();
  let size = 0;
  for (const id of vocab.values()) size = Math.max(size, id + 1);
  const out: (Uint8Array | null)[] = new Array(size).fill(null);
  const special = new Set(tok.all_special_ids);
  const added = inner.get_added_tokens_decoder();
  const utf8 = new TextEncoder();
  const byteDecoder = byteLevelTable(inner.decoder as unknown as DecoderParts | null);
  // Without a byte-level decoder, a token's text is read in context: after an ordinary anchor token,
  // so decoders that strip the first token's leading space (SentencePiece's "▁") keep it.
  const anchor = tok.encode('a', { add_special_tokens: false })[0];
  const anchorText = anchor === undefined ? '' : tok.decode([anchor], { skip_special_tokens: true });
  const inContext = (id: number): Uint8Array | null => {
    const text = anchor === undefined ? tok.decode([id], { skip_special_tokens: true })
      : tok.decode([anchor, id], { skip_special_tokens: true }).slice(anchorText.length);
    return text.includes('\uFFFD') ? null : utf8.encode(text); // part of a character: bytes unknown
  };
  for (const [piece, id] of vocab) {
    if (special.has(id)) continue;
    const addedToken = added.get(id);
    if (addedToken) {
      out[id] = utf8.encode(addedToken.content);
      continue;
    }
    if (byteDecoder) {
      const bytes = [...piece].map((ch) => byteDecoder[ch]);
      if (bytes.every((b) => b !== undefined)) {
        out[id] = Uint8Array.from(bytes);
        continue;
      }
    } else {
      // SentencePiece byte fallback: "<0x41>" stands for one byte, whole or part of a character.
      const fallback = BYTE_FALLBACK_RE.exec(piece);
      if (fallback) {
        out[id] = Uint8Array.of(parseInt(fallback[1], 16));
        continue;
      }
    }
    out[id] = inContext(id);
  }
  return out;
}

/** The byte-level decoder's character -> byte table (GPT-2 style tokenizers), if the decoder has one. */
function byteLevelTable(decoder: DecoderParts | null): Record<string, number> | null {
  if (!decoder) return null;
  if (decoder.config?.type === 'ByteLevel' && decoder.byte_decoder) return decoder.byte_decoder;
  for (const child of decoder.decoders ?? []) {
    const table = byteLevelTable(child);
    if (table) return table;
  }
  return null;
}

/**
 * Text added by each new token, without decoding the whole output every step and without cutting a
 * multi-byte character or a word-initial space: decode a short window before the new token and the
 * window with it, and emit the difference (the approach of Hugging Face's text-generation-inference).
 */
export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly tokenizer: Pick<LocalTokenizer, 'decode'>) {}

  push(id: number): string {
    this.ids.push(id);
    const prefix = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    // U+FFFD at the end: the token ends inside a UTF-8 character; wait for the rest of its bytes.
    if (full.length > prefix.length && !full.endsWith('\uFFFD')) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return full.slice(prefix.length);
    }
    return '';
  }

  /** Text still held back when generation ends (an incomplete character comes out as U+FFFD). */
  flush(): string {
    const prefix = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return full.length > prefix.length ? full.slice(prefix.length) : '';
  }
}

/** IEEE 754 half to single precision (onnxruntime-node hands float16 tensors over as Uint16Array). */
export function float16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024)
      : exp === 0x1f ? (frac ? NaN : sign * Infinity)
        : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}
