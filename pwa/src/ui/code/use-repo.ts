/**
 * A repository of the open space as a view reads it: this browser's copy
 * (node/repo-mirror.ts), brought up to what the space names from a
 * connected peer when the view opens (and on demand), and read from
 * IndexedDB whatever happens — offline, or with every peer gone, what was
 * fetched before stays browsable. The git code is loaded on first use.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "#protocol";
import type { Space } from "#protocol/space";
import type { BrowserNode } from "../../node/browser-node.ts";
import { apiOrigin } from "../../node/peer-url.ts";
import type { RepoMirror } from "../../node/repo-mirror.ts";
import type { PeerApi } from "../../node/api-request.ts";
import type { Repo } from "../../model/git-read.ts";

export type CodeReader = typeof import("../../model/code-reader.ts");

let loading: Promise<{ read: CodeReader; mirror: RepoMirror }> | undefined;

/** The git readers and this browser's one mirror, loaded once. */
export function loadReader(): Promise<{ read: CodeReader; mirror: RepoMirror }> {
  return (loading ??= import("../../model/code-reader.ts").then((read) => ({ read, mirror: new read.RepoMirror() })));
}

export interface RepoStatus {
  /** The readers and the repository's place here, once the git code has loaded. */
  read?: CodeReader;
  repo?: Repo;
  /** "fetching" while a peer is asked; "ready" once what the space names is here; "stale" if no peer could send it. */
  state: "fetching" | "ready" | "stale";
  /** Why the last fetch failed, if it did. */
  error?: string;
  /** Bumps whenever the copy may have changed, for views to re-read. */
  version: number;
  refresh(): void;
}

/**
 * The member peers connected now, as API origins with the DIDs their
 * sessions proved: the peer that served this page first (its own origin, no
 * preflight), then any other (peer/api/cors.ts).
 */
export function connectedPeers(bn: BrowserNode): PeerApi[] {
  return bn.peers.filter((p) => bn.ws.status.get(p.url) === "open")
    .sort((a, b) => Number(apiOrigin(b.url) === location.origin) - Number(apiOrigin(a.url) === location.origin))
    .map((p) => ({ origin: apiOrigin(p.url), did: bn.ws.remoteDidAt(p.url) }));
}

/** Fetch `repo` (and the `commits` a view needs beyond its refs) from each connected peer in turn until one serves it. */
async function fetchFromPeers(
  bn: BrowserNode,
  mirror: RepoMirror,
  space: Space,
  repo: string,
  commits: string[],
): Promise<number> {
  const open = connectedPeers(bn);
  if (open.length === 0) throw new Error("no peer is connected: showing what this browser fetched before");
  let last: unknown;
  for (const peer of open) {
    try {
      const me = { did: bn.did, signer: bn.node.signer };
      return await mirror.fetch(me, space, repo, peer, commits, AbortSignal.timeout(120_000));
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

export function useRepo(bn: BrowserNode, space: Space, repo: string, commits: readonly string[]): RepoStatus {
  const [state, setState] = useState<Omit<RepoStatus, "refresh">>({ state: "fetching", version: 0 });
  const [asked, setAsked] = useState(0);
  const key = commits.join(",");
  useEffect(() => {
    let gone = false;
    setState((s) => ({ ...s, state: "fetching" }));
    void (async () => {
      const { read, mirror } = await loadReader();
      const here = { read, repo: { fs: mirror.fs, gitdir: mirror.gitdir(space.id, repo) } };
      if (gone) return;
      setState((s) => ({ ...s, ...here, version: s.version + 1 }));
      await fetchFromPeers(bn, mirror, space, repo, [...commits]).then(
        () => !gone && setState((s) => ({ ...s, ...here, state: "ready", error: undefined, version: s.version + 1 })),
        (e) =>
          !gone && setState((s) => ({ ...s, ...here, state: "stale", error: messageOf(e), version: s.version + 1 })),
      );
    })();
    return () => {
      gone = true;
    };
  }, [space.id, repo, key, asked]);
  return { ...state, refresh: () => setAsked((n) => n + 1) };
}
