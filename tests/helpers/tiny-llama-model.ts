/**
 * A generated random-weight model: a minimal llama architecture (2 layers,
 * 64-wide, 4 heads) with a small SentencePiece-style vocabulary (control
 * tokens, the 256 byte-fallback tokens, letters and a few words with their
 * prefixes), written as GGUF by gguf-writer.ts. Deterministic (a seeded
 * PRNG), about 600 KB, and its output is meaningless text: it exists so the
 * LLM router's tests run a real inference engine (node-llama-cpp), not to
 * say anything. Specials and bytes get zero output weights, so generation
 * yields word pieces and never stops early on end-of-sequence.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GgufTensor, writeGguf } from "./gguf-writer.ts";

const N_EMBD = 64;
const N_HEAD = 4;
const N_FF = 128;
const N_LAYER = 2;
const CONTEXT = 2048;

const WORDS = (
  "the of and to in is it you that he was for on are with as his they be at one have this from or had by " +
  "hello world test code mesh weft model reply ok agent task run patch build"
).split(" ");

/** The vocabulary: pieces, their SentencePiece scores and token types (1 normal, 2 unknown, 3 control, 6 byte). */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces = new Set<string>(["▁"]);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()") pieces.add(c);
  for (const w of WORDS) for (let i = 1; i <= w.length; i++) pieces.add("▁" + w.slice(0, i));
  for (const p of pieces) {
    tokens.push(p);
    types.push(1);
  }
  // Longer pieces merge first, as SentencePiece scores them.
  const scores = tokens.map((t, i) => (types[i] === 1 ? [...t].length - i * 1e-4 : 0));
  return { tokens, scores, types };
}

/** A deterministic PRNG (mulberry32) giving roughly normal values (sum of four uniforms). */
function normals(seed: number): (std: number) => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (std) => (uniform() + uniform() + uniform() + uniform() - 2) * std * Math.sqrt(3);
}

/** The GGUF bytes of the model; the same bytes for the same seed. */
export function tinyLlamaModel(seed = 16): Uint8Array {
  const { tokens, scores, types } = vocabulary();
  const nVocab = tokens.length;
  const normal = normals(seed);
  const tensor = (name: string, dims: number[], std: number | "ones"): GgufTensor => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = std === "ones" ? 1 : normal(std);
    return { name, dims, data };
  };
  const output = tensor("output.weight", [N_EMBD, nVocab], 1);
  types.forEach((type, id) => type !== 1 && output.data.fill(0, id * N_EMBD, (id + 1) * N_EMBD));
  const tensors = [
    tensor("token_embd.weight", [N_EMBD, nVocab], 1),
    tensor("output_norm.weight", [N_EMBD], "ones"),
    output,
  ];
  const linear = 1 / Math.sqrt(N_EMBD);
  for (let l = 0; l < N_LAYER; l++) {
    const b = `blk.${l}.`;
    tensors.push(
      tensor(b + "attn_norm.weight", [N_EMBD], "ones"),
      tensor(b + "attn_q.weight", [N_EMBD, N_EMBD], linear),
      tensor(b + "attn_k.weight", [N_EMBD, N_EMBD], linear),
      tensor(b + "attn_v.weight", [N_EMBD, N_EMBD], linear),
      tensor(b + "attn_output.weight", [N_EMBD, N_EMBD], linear),
      tensor(b + "ffn_norm.weight", [N_EMBD], "ones"),
      tensor(b + "ffn_gate.weight", [N_EMBD, N_FF], linear),
      tensor(b + "ffn_up.weight", [N_EMBD, N_FF], linear),
      tensor(b + "ffn_down.weight", [N_FF, N_EMBD], 1 / Math.sqrt(N_FF)),
    );
  }
  return writeGguf({
    "general.architecture": { string: "llama" },
    "general.name": { string: "weft-test-random-weights" },
    "general.alignment": { u32: 32 },
    "llama.context_length": { u32: CONTEXT },
    "llama.embedding_length": { u32: N_EMBD },
    "llama.block_count": { u32: N_LAYER },
    "llama.feed_forward_length": { u32: N_FF },
    "llama.attention.head_count": { u32: N_HEAD },
    "llama.attention.head_count_kv": { u32: N_HEAD },
    "llama.attention.layer_norm_rms_epsilon": { f32: 1e-5 },
    "llama.rope.dimension_count": { u32: N_EMBD / N_HEAD },
    "llama.rope.freq_base": { f32: 10000 },
    "llama.vocab_size": { u32: nVocab },
    "tokenizer.ggml.model": { string: "llama" },
    "tokenizer.ggml.tokens": { strings: tokens },
    "tokenizer.ggml.scores": { f32s: scores },
    "tokenizer.ggml.token_type": { i32s: types },
    "tokenizer.ggml.unknown_token_id": { u32: 0 },
    "tokenizer.ggml.bos_token_id": { u32: 1 },
    "tokenizer.ggml.eos_token_id": { u32: 2 },
    "tokenizer.ggml.add_bos_token": { bool: true },
    "tokenizer.ggml.add_eos_token": { bool: false },
  }, tensors);
}

/** Writes the generated model into a fresh temporary directory; gives its path. */
export async function writeTinyLlamaModel(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-tiny-llama-"));
  const path = join(dir, "random-weights.gguf");
  await writeFile(path, tinyLlamaModel());
  return path;
}
