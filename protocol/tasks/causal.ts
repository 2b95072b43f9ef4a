/**
 * The causal graph of a space's operations: each operation names the
 * operations it was made on (`after`), and its hybrid-logical time exceeds
 * theirs, so (time, CID) order is a topological order and every question
 * below can stop walking once it passes the time it is looking for.
 *
 * It answers the questions judging an operation needs without trusting
 * the author's clock: did this operation's author see that one (ancestry),
 * which operations does nothing follow yet (the heads a new operation names),
 * and when did someone else first build on an operation (its witness time:
 * the earliest time another author's operation names it in its past).
 */
import { compareHlc, type Hlc } from "./hlc.ts";

export interface CausalNode {
  readonly cid: string;
  readonly at: Hlc;
  readonly author: string;
  readonly parents: readonly string[];
}

interface Entry extends CausalNode {
  children: string[];
}

export class CausalGraph {
  readonly #nodes = new Map<string, Entry>();
  /** Operations no known operation names as a parent. */
  readonly #heads = new Set<string>();
  /** The latest time of any operation in the graph (ms). */
  #latest = 0;
  /** The last answer of `heads`, until an operation is added. */
  #newest?: { max: number; cids: string[] };

  has(cid: string): boolean {
    return this.#nodes.has(cid);
  }

  get(cid: string): CausalNode | undefined {
    return this.#nodes.get(cid);
  }

  get latest(): number {
    return this.#latest;
  }

  /** The parents of `node` not in the graph yet (it may not be added before they are). */
  missing(parents: readonly string[]): string[] {
    return parents.filter((p) => !this.#nodes.has(p));
  }

  /** Add an operation whose parents are all present and earlier. */
  add(node: CausalNode): void {
    if (this.#nodes.has(node.cid)) return;
    this.#newest = undefined;
    this.#nodes.set(node.cid, { ...node, children: [] });
    for (const p of node.parents) {
      this.#nodes.get(p)?.children.push(node.cid);
      this.#heads.delete(p);
    }
    this.#heads.add(node.cid);
    if (node.at[0] > this.#latest) this.#latest = node.at[0];
  }

  /**
   * Up to `max` heads, newest first: what a new operation names as its
   * parents (and what every API answer reports). Kept until an operation is
   * added, and picked without sorting them all: a log of client operations
   * that name no parents has thousands of heads.
   */
  heads(max: number): string[] {
    if (this.#newest?.max !== max) {
      const top: Entry[] = [];
      const newer = (a: Entry, b: Entry) =>
        compareHlc(a.at, b.at) > 0 || (compareHlc(a.at, b.at) === 0 && a.cid > b.cid);
      for (const cid of this.#heads) {
        const n = this.#nodes.get(cid) as Entry;
        if (top.length === max && !newer(n, top[max - 1])) continue;
        let i = Math.min(top.length, max - 1);
        top[i] = n;
        while (i > 0 && newer(top[i], top[i - 1])) {
          [top[i - 1], top[i]] = [top[i], top[i - 1]];
          i--;
        }
      }
      this.#newest = { max, cids: top.map((n) => n.cid) };
    }
    return [...this.#newest.cids];
  }

  /** Is `ancestor` in the causal past of `cid` (or the same operation)? */
  precedes(ancestor: string, cid: string): boolean {
    if (ancestor === cid) return true;
    const target = this.#nodes.get(ancestor);
    if (!target) return false;
    const stack = [cid];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const n = this.#nodes.get(stack.pop() as string);
      if (!n) continue;
      for (const p of n.parents) {
        if (p === ancestor) return true;
        if (seen.has(p)) continue;
        seen.add(p);
        const parent = this.#nodes.get(p);
        // Ancestors are strictly earlier: nothing before the target can lead to it.
        if (parent && compareHlc(parent.at, target.at) > 0) stack.push(p);
      }
    }
    return false;
  }

  /** Every operation in the causal past of `cid`, itself included. */
  past(cid: string): Set<string> {
    const out = new Set<string>();
    const stack = [cid];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (out.has(id)) continue;
      const n = this.#nodes.get(id);
      if (!n) continue;
      out.add(id);
      for (const p of n.parents) stack.push(p);
    }
    return out;
  }

  /**
   * The earliest time (ms) at which an operation accepted by `counts` names
   * `cid` in its past, or Infinity. Descendants are visited in time order,
   * so the first that counts is the answer.
   */
  witnessTime(cid: string, counts: (n: CausalNode) => boolean): number {
    const start = this.#nodes.get(cid);
    if (!start) return Infinity;
    const queue: Entry[] = [];
    const seen = new Set<string>([cid]);
    const push = (n: Entry) => {
      // keep `queue` sorted by time, earliest last (popped first)
      let lo = 0;
      let hi = queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareHlc(queue[mid].at, n.at) > 0) lo = mid + 1;
        else hi = mid;
      }
      queue.splice(lo, 0, n);
    };
    for (const c of start.children) {
      seen.add(c);
      push(this.#nodes.get(c) as Entry);
    }
    while (queue.length > 0) {
      const n = queue.pop() as Entry;
      if (counts(n)) return n.at[0];
      for (const c of n.children) {
        if (seen.has(c)) continue;
        seen.add(c);
        push(this.#nodes.get(c) as Entry);
      }
    }
    return Infinity;
  }
}
