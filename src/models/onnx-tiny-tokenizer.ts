// tokenizer.json / tokenizer_config.json for the tiny ONNX model: a byte-level BPE (GPT-2 byte alphabet,
// a few dozen merges) with DeepSeek-R1's special tokens and a chat template in DeepSeek-R1's shape
// (<｜User｜>...<｜Assistant｜><think>\n), so runners see the same prompt structure as with the real distills.

export const TINY_SPECIAL = {
  bos: '<｜begin▁of▁sentence｜>',
  eos: '<｜end▁of▁sentence｜>',
  user: '<｜User｜>',
  assistant: '<｜Assistant｜>',
  thinkOpen: '<think>',
  thinkClose: '</think>',
} as const;

/** Words whose merges make the vocabulary; 'Ġ' is the byte-level space. */
const MERGE_WORDS = ['Ġthe', 'Ġof', 'Ġand', 'Ġis', 'Ġanswer', 'Ġpatient', 'in', 'er', 'on', 'Answer'];

/** GPT-2's reversible byte -> printable character table (what ByteLevel pre-tokenizers use). */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

export interface TinyTokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: object;
  vocabSize: number;
  bos: number;
  eos: number;
  thinkClose: number;
}

export function buildTinyTokenizer(): TinyTokenizerFiles {
  const vocab: Record<string, number> = {};
  const add = (tok: string) => {
    if (!(tok in vocab)) vocab[tok] = Object.keys(vocab).length;
  };
  for (const ch of byteToUnicode()) add(ch);
  // Left-to-right merges per word: "Ġ t" -> "Ġt", "Ġt h" -> "Ġth", ... each result a vocabulary entry.
  const merges: string[] = [];
  for (const word of MERGE_WORDS) {
    const chars = [...word];
    let left = chars[0];
    for (const ch of chars.slice(1)) {
      const merge = `${left} ${ch}`;
      left += ch;
      if (!merges.includes(merge)) merges.push(merge);
      add(left);
    }
  }
  const specials = [TINY_SPECIAL.bos, TINY_SPECIAL.eos, TINY_SPECIAL.user, TINY_SPECIAL.assistant, TINY_SPECIAL.thinkOpen, TINY_SPECIAL.thinkClose];
  // As in DeepSeek-R1's tokenizer: BOS/EOS are special (skipped when decoding); the role and think markers are not.
  const addedTokens = specials.map((content) => {
    add(content);
    return {
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: content === TINY_SPECIAL.bos || content === TINY_SPECIAL.eos,
    };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const chatTemplate =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
    '{{ bos_token }}' +
    "{% for message in messages %}" +
    "{% if message['role'] == 'system' %}{{ message['content'] }}" +
    "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}" +
    "{% elif message['role'] == 'assistant' %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}" +
    '{% endif %}{% endfor %}' +
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: TINY_SPECIAL.bos,
    eos_token: TINY_SPECIAL.eos,
    pad_token: TINY_SPECIAL.eos,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    chat_template: chatTemplate,
  };
  return {
    tokenizerJson,
    tokenizerConfig,
    vocabSize: Object.keys(vocab).length,
    bos: vocab[TINY_SPECIAL.bos],
    eos: vocab[TINY_SPECIAL.eos],
    thinkClose: vocab[TINY_SPECIAL.thinkClose],
  };
}
