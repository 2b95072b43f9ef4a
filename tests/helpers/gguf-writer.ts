/**
 * A GGUF (version 3) file writer: typed metadata key/values, then tensor
 * descriptions, then the tensors' data, each aligned. Only what tests need:
 * the scalar, string and array value types and F32 tensors. Used to make a
 * random-weight model at test time (tiny-llama-model.ts), since no model
 * file ships in any package this machine can install.
 */

/** GGUF metadata value types, as numbered by the format. */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;

export type GgufValue =
  | { u32: number }
  | { i32: number }
  | { f32: number }
  | { bool: boolean }
  | { string: string }
  | { strings: string[] }
  | { f32s: Float32Array | number[] }
  | { i32s: Int32Array | number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions in GGML order: the fastest-varying (row length) first. */
  dims: number[];
  data: Float32Array;
}

const ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;

class Out {
  private chunks: Uint8Array[] = [];
  size = 0;
  private push(b: Uint8Array) {
    this.chunks.push(b);
    this.size += b.length;
  }
  private num(bytes: number, set: (v: DataView) => void) {
    const b = new Uint8Array(bytes);
    set(new DataView(b.buffer));
    this.push(b);
  }
  u32 = (v: number) => this.num(4, (d) => d.setUint32(0, v, true));
  i32 = (v: number) => this.num(4, (d) => d.setInt32(0, v, true));
  f32 = (v: number) => this.num(4, (d) => d.setFloat32(0, v, true));
  u64 = (v: number) => this.num(8, (d) => d.setBigUint64(0, BigInt(v), true));
  u8 = (v: number) => this.push(Uint8Array.of(v));
  str = (s: string) => {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.push(b);
  };
  bytes = (b: Uint8Array) => this.push(b);
  pad = () => this.push(new Uint8Array((ALIGNMENT - (this.size % ALIGNMENT)) % ALIGNMENT));
  result(): Uint8Array {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) all.set(c, (at += c.length) - c.length);
    return all;
  }
}

function writeValue(out: Out, v: GgufValue): void {
  if ("u32" in v) (out.u32(T.u32), out.u32(v.u32));
  else if ("i32" in v) (out.u32(T.i32), out.i32(v.i32));
  else if ("f32" in v) (out.u32(T.f32), out.f32(v.f32));
  else if ("bool" in v) (out.u32(T.bool), out.u8(v.bool ? 1 : 0));
  else if ("string" in v) (out.u32(T.string), out.str(v.string));
  else if ("strings" in v) (out.u32(T.array), out.u32(T.string), out.u64(v.strings.length), v.strings.forEach(out.str));
  else if ("f32s" in v) (out.u32(T.array), out.u32(T.f32), out.u64(v.f32s.length), v.f32s.forEach(out.f32));
  else (out.u32(T.array), out.u32(T.i32), out.u64(v.i32s.length), v.i32s.forEach(out.i32));
}

/** The bytes of a GGUF v3 file holding `metadata` and `tensors` (F32). */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Uint8Array {
  const out = new Out();
  out.bytes(new TextEncoder().encode("GGUF"));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.data.length !== t.dims.reduce((a, b) => a * b, 1)) throw new Error(`gguf: ${t.name} has the wrong size`);
    out.str(t.name);
    out.u32(t.dims.length);
    t.dims.forEach(out.u64);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  out.pad();
  for (const t of tensors) {
    out.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.pad();
  }
  return out.result();
}
