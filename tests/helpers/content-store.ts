/**
 * An in-memory ContentStore for runner tests: bytes by their raw-codec
 * sha2-256 CID, as the artifact store keeps them.
 */
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import type { ContentStore } from "../../protocol/runner/runner.ts";

export class MemoryContentStore implements ContentStore {
  readonly blocks = new Map<string, Uint8Array>();

  get(cid: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.blocks.get(cid));
  }

  put(bytes: Uint8Array): Promise<string> {
    const cid = cidOf(bytes, RAW).toString();
    this.blocks.set(cid, bytes.slice());
    return Promise.resolve(cid);
  }

  /** Store text or bytes and return the CID. */
  add(content: string | Uint8Array): Promise<string> {
    return this.put(typeof content === "string" ? new TextEncoder().encode(content) : content);
  }

  text(cid: string): string {
    const bytes = this.blocks.get(cid);
    if (!bytes) throw new Error(`no block ${cid}`);
    return new TextDecoder().decode(bytes);
  }
}
