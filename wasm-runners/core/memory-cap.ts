/**
 * Caps the linear memories of a component's core modules at a run's memory
 * limit by rewriting each module's memory section to declare that maximum,
 * so `memory.grow` past the limit fails inside the engine — on every
 * runtime, including browsers, where nothing else can bound an ArrayBuffer.
 *
 * A component may define several memories (the usual one, from its main
 * module, plus any from composed components). Each keeps its declared
 * minimum, and what remains of the limit is shared equally between them, so
 * together they never exceed it. It also reports, per module, which export
 * names each capped memory has, so the sandbox can tell "ran out of memory"
 * from other traps.
 */
import { WeftError } from "#protocol";

const PAGE = 65536;
const MAX_PAGES_32 = 65536;

export interface MemoryCap {
  /** The name the module exports this memory under, if any. */
  exportName?: string;
  /** The memory's maximum after capping, in bytes. */
  capBytes: number;
}

export interface CappedModule {
  bytes: Uint8Array;
  memories: MemoryCap[];
}

interface Limits {
  flags: number;
  min: number;
  max?: number;
}

interface ParsedModule {
  sections: { id: number; start: number; end: number }[];
  importedMemories: number;
  memories: Limits[];
  memoryExports: Map<number, string>;
}

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw malformed("truncated section");
    return this.bytes[this.pos++];
  }
  /** Unsigned LEB128 (up to 64 bits, as a number; wasm sizes fit). */
  u(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw malformed("LEB128 number too long");
  }
  /** Signed LEB128, only to skip it. */
  skipS(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw malformed("LEB128 number too long");
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw malformed("truncated section");
    this.pos += n;
  }
  name(): string {
    const n = this.u();
    const start = this.pos;
    this.skip(n);
    return new TextDecoder().decode(this.bytes.subarray(start, start + n));
  }
  limits(): Limits {
    const flags = this.byte();
    if (flags & ~0x07) throw malformed(`memory limits with flags 0x${flags.toString(16)} (custom page sizes?)`);
    const min = this.u();
    const max = flags & 1 ? this.u() : undefined;
    return { flags, min, max };
  }
  valtype(): void {
    const t = this.byte();
    if (t === 0x63 || t === 0x64) this.skipS();
  }
}

function malformed(what: string): WeftError {
  return new WeftError("RunnerError", "wasm/malformed-module", `a core module of the component is malformed: ${what}`);
}

function parse(bytes: Uint8Array): ParsedModule {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw malformed("not a WebAssembly module");
  }
  const out: ParsedModule = { sections: [], importedMemories: 0, memories: [], memoryExports: new Map() };
  const top = new Reader(bytes, 8, bytes.length);
  while (top.pos < bytes.length) {
    const id = top.byte();
    const size = top.u();
    const start = top.pos;
    top.skip(size);
    out.sections.push({ id, start, end: start + size });
    const r = new Reader(bytes, start, start + size);
    if (id === 2) {
      for (let n = r.u(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0x00 || kind === 0x04) {
          if (kind === 0x04) r.byte();
          r.u();
        } else if (kind === 0x01) {
          r.valtype();
          r.limits();
        } else if (kind === 0x02) {
          r.limits();
          out.importedMemories++;
        } else if (kind === 0x03) {
          r.valtype();
          r.byte();
        } else throw malformed(`unknown import kind ${kind}`);
      }
    } else if (id === 5) {
      for (let n = r.u(); n > 0; n--) out.memories.push(r.limits());
    } else if (id === 7) {
      for (let n = r.u(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u();
        if (kind === 0x02 && !out.memoryExports.has(index)) out.memoryExports.set(index, name);
      }
    }
  }
  return out;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function rewrite(bytes: Uint8Array, parsed: ParsedModule, caps: number[]): Uint8Array {
  const section = parsed.sections.find((s) => s.id === 5);
  if (!section) return bytes;
  const body: number[] = leb(parsed.memories.length);
  parsed.memories.forEach((m, i) => body.push(m.flags | 1, ...leb(m.min), ...leb(caps[i])));
  const header = [5, ...leb(body.length)];
  const before = section.start - (1 + leb(section.end - section.start).length);
  const out = new Uint8Array(before + header.length + body.length + (bytes.length - section.end));
  out.set(bytes.subarray(0, before), 0);
  out.set(header, before);
  out.set(body, before + header.length);
  out.set(bytes.subarray(section.end), before + header.length + body.length);
  return out;
}

/**
 * Cap every memory the modules define so that together they stay within
 * `limitBytes`. Throws a WeftError with code `wasm/memory-limit` when the
 * modules ask for more than that just to start.
 */
export function capMemories(modules: [string, Uint8Array][], limitBytes: number): Map<string, CappedModule> {
  const parsed = modules.map(([name, bytes]) => ({ name, bytes, module: parse(bytes) }));
  const all = parsed.flatMap((p) => p.module.memories);
  const limitPages = Math.floor(limitBytes / PAGE);
  const minPages = all.reduce((sum, m) => sum + m.min, 0);
  if (minPages > limitPages) {
    throw new WeftError(
      "RunnerError",
      "wasm/memory-limit",
      `the component needs ${Math.ceil((minPages * PAGE) / 2 ** 20)} MB of memory just to start, ` +
        `more than its ${Math.floor(limitBytes / 2 ** 20)} MB limit; raise limits.memoryMb`,
    );
  }
  const share = all.length === 0 ? 0 : Math.floor((limitPages - minPages) / all.length);
  const out = new Map<string, CappedModule>();
  for (const { name, bytes, module } of parsed) {
    const caps = module.memories.map((m) => {
      const wide = (m.flags & 0x04) !== 0;
      return Math.min(m.max ?? Infinity, m.min + share, wide ? Infinity : MAX_PAGES_32);
    });
    out.set(name, {
      bytes: rewrite(bytes, module, caps),
      memories: caps.map((cap, i) => ({
        exportName: module.memoryExports.get(module.importedMemories + i),
        capBytes: cap * PAGE,
      })),
    });
  }
  return out;
}
