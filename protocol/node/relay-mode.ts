/**
 * Relay mode (a carrier): carry the spaces of members who connect and
 * prove membership — checked against each space's root DID and, once its
 * document is here, its revocations — without being a member of any. The
 * first proof for a space makes the relay fetch its documents from that
 * member and carry them from then on.
 */
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { WeftError } from "../errors.ts";
import { Space } from "../space/space.ts";
import type { Validator } from "../ucan/validator.ts";
import { type NodeContext, rootValidator } from "./node-context.ts";

export class RelayMode {
  readonly #ctx: NodeContext;
  readonly #only?: ReadonlySet<string>;
  readonly #hosted: (space: Space, url: string) => Promise<void>;
  readonly #registerDocument: (doc: string, space: string) => void;
  readonly #hosting = new Set<string>();

  /**
   * `only`: carry only these spaces (DIDs), default any. `registerDocument`:
   * tell the share policy the space document is coming; `hosted`: make a
   * fetched space one of the node's.
   */
  constructor(ctx: NodeContext, options: {
    only?: readonly string[];
    registerDocument: (doc: string, space: string) => void;
    hosted: (space: Space, url: string) => Promise<void>;
  }) {
    this.#ctx = ctx;
    if (options.only) this.#only = new Set(options.only);
    this.#registerDocument = options.registerDocument;
    this.#hosted = options.hosted;
  }

  /** How to check a proof for a space the relay does not hold yet; undefined if it does not carry it. */
  validatorFor(id: string): Validator | undefined {
    return (this.#only?.has(id) ?? true) ? rootValidator(this.#ctx) : undefined;
  }

  /** A member proved space `id` (document `url`): fetch its documents from them and carry them from now on. */
  async host(id: string, url: string): Promise<void> {
    if (this.#hosting.has(id) || this.#ctx.spaces.has(id)) return;
    this.#hosting.add(id);
    // Let the session send its authz first, so the member knows to serve us before we ask.
    await new Promise((r) => setTimeout(r, 0));
    this.#registerDocument(url.replace(/^automerge:/, ""), id);
    try {
      const space = await Space.open(this.#ctx.deps(), url as AutomergeUrl, { signal: AbortSignal.timeout(30_000) });
      if (space.id !== id) throw new WeftError("InvalidSpace", "space/invalid", `${url} is not the document of ${id}`);
      await this.#hosted(space, url);
    } catch (e) {
      this.#ctx.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/host-failed", reason: String(e) });
    } finally {
      this.#hosting.delete(id);
    }
  }
}
