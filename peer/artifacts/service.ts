/**
 * A peer's artifacts, as its API, its runs and its pinner use them: the
 * local content-addressed store (always), the S3 store (when configured:
 * new artifacts go there), manifests in helia, and which spaces may read
 * what. Every read is authorized per space; every manifest is verified —
 * signature, statement and the runner's capability — before it is pinned
 * or its outputs become readable in the space.
 * (A little over ~400 lines: the stores, the manifests and the per-space
 * read rights are one façade the API and the runs share.)
 */
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { DAG_JSON } from "#protocol/codec";
import type { WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import type { Signer, Verifier } from "#protocol/identity";
import { isWeftError, WeftError } from "#protocol";
import type { ContentStore, RunResult, RunSpec } from "#protocol/runner";
import {
  ArtifactError,
  type ArtifactStore,
  buildManifest,
  type BuiltManifest,
  manifestFiles,
  type ManifestOutput,
  mediaTypeOf,
  type PutOptions,
  rawCid,
  RUN_LOG_MEDIA_TYPE,
  runCommand,
  type RunLogFile,
  type Sha256Factory,
  sha256OfCid,
  type StoredArtifact,
  type VerifiedManifest,
  verifyManifest,
  verifyOutput,
} from "#protocol/artifacts";
import { LocalArtifactStore, notFound } from "./local-store.ts";
import { ManifestStore, parseManifestCid } from "./manifest-store.ts";
import { nativeSha256Stream } from "../crypto/native-sha256.ts";
import type { S3Settings } from "./s3-config.ts";
import { S3ArtifactStore } from "./s3-store.ts";
import { SpaceRefs } from "./space-refs.ts";
import { StoredTap, type StoredWatcher } from "./stored-tap.ts";

/** How long an artifact fetch from the mesh may take (outputs up to the mesh's 48 MiB blob limit). */
const MESH_FETCH_MS = 60_000;

export interface ArtifactServiceOptions {
  node: WeftNode;
  local: LocalArtifactStore;
  remote?: S3ArtifactStore;
  manifests: ManifestStore;
  refs: SpaceRefs;
  verifier?: Verifier;
  hasher?: Sha256Factory;
}

export interface ManifestSummary {
  cid: string;
  task: string;
  title: string;
  outcome: "success" | "failure";
  by: string;
  pinned: boolean;
}

export interface OutputCheck {
  path: string;
  size: number;
  sha256: string;
  ok: boolean;
  /** Which store the bytes were read from. */
  from?: "local" | "s3";
  error?: { code: string; message: string };
}

export interface VerifyReport {
  cid: string;
  ok: boolean;
  /** Why the manifest itself was refused (signature, statement, capability). */
  error?: { code: string; message: string };
  space?: string;
  task?: string;
  runner?: { did: string; kind: string };
  status?: string;
  startedAt?: number;
  endedAt?: number;
  spec?: string;
  /** The run invocation's CID and the runner's chain (CIDs, root first). */
  invocation?: string;
  chain?: string[];
  outputs: OutputCheck[];
}

export interface RunToRecord {
  task: string;
  spec: RunSpec;
  result: RunResult;
  /** The run's log file (protocol/artifacts/run-log.ts). */
  log: Uint8Array;
  /** Media types by output path (default: from the file name). */
  mediaTypes?: Record<string, string>;
}

function problem(e: unknown): { code: string; message: string } {
  if (e instanceof WeftError) return { code: e.code, message: e.message };
  throw e;
}

export class ArtifactService {
  readonly node: WeftNode;
  readonly local: LocalArtifactStore;
  readonly remote?: S3ArtifactStore;
  readonly manifests: ManifestStore;
  readonly refs: SpaceRefs;
  readonly #verifier?: Verifier;
  readonly #hasher: Sha256Factory;
  readonly #watchers: StoredWatcher[] = [];

  constructor(options: ArtifactServiceOptions) {
    this.node = options.node;
    this.local = options.local;
    this.remote = options.remote;
    this.manifests = options.manifests;
    this.refs = options.refs;
    this.#verifier = options.verifier;
    this.#hasher = options.hasher ?? nativeSha256Stream;
  }

  /**
   * Everything under `<dir>` (the peer's `<data dir>/artifacts`): the local
   * store, manifests and space references, plus the S3 store when `s3` is
   * given; what it holds is served to the node's member peers by CID. Its bucket and credentials are checked now:
   * wrong credentials or a missing bucket refuse to open (a setting to fix);
   * an endpoint that does not answer is only reported through `warn` (it may
   * come up later; until then S3 operations fail with that error).
   */
  static async open(options: {
    dir: string;
    node: WeftNode;
    s3?: S3Settings;
    verifier?: Verifier;
    warn?: (message: string) => void;
  }): Promise<ArtifactService> {
    const remote = options.s3 ? new S3ArtifactStore(options.s3) : undefined;
    try {
      await remote?.check(AbortSignal.timeout(10_000)).catch((e) => {
        if (!isWeftError(e, "artifact/store-unreachable")) throw e;
        options.warn?.(e.message);
      });
      const service = new ArtifactService({
        node: options.node,
        local: await LocalArtifactStore.open({ dir: join(options.dir, "store"), node: options.node.did }),
        ...(remote ? { remote } : {}),
        manifests: await ManifestStore.open({
          dir: join(options.dir, "manifests"),
          fetch: (cid, signal) => options.node.fetchBlob(cid, signal),
        }),
        refs: new SpaceRefs(join(options.dir, "refs")),
        ...(options.verifier ? { verifier: options.verifier } : {}),
      });
      options.node.serveBlobs(service.#served());
      return service;
    } catch (e) {
      remote?.destroy();
      throw e;
    }
  }

  /** Where new artifacts go: the S3 store when configured, else the local one. */
  get primary(): ArtifactStore {
    return this.remote ?? this.local;
  }

  space(id: string): Space {
    const space = this.node.space(id);
    if (!space) throw new WeftError("NotFound", "not-found", `this node is not in a space ${id}`);
    return space;
  }

  /**
   * Store bytes for a space; with `sha256` the bytes must match it or nothing is kept. Once stored, each watcher
   * (watchStored) is told its CID and first bytes, and given the whole bytes if it asked for them.
   */
  async put(
    space: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<StoredArtifact> {
    this.space(space);
    const tap = this.#watchers.length === 0 ? undefined : new StoredTap(this.#watchers);
    const stored = await this.primary.write(tap ? tap.pass(source) : source, options);
    await this.refs.add(space, stored.sha256);
    tap?.stored(stored.cid, stored.size);
    return stored;
  }

  /** Be told of every artifact stored through put() from now on (stored-tap.ts says what a watcher sees). */
  watchStored(watcher: StoredWatcher): void {
    this.#watchers.push(watcher);
  }

  /**
   * The runners' ContentStore (whole blobs by raw CID): `get` reads the
   * local store, then the S3 store when configured — copying the object
   * into the local store, which checks its sha-256 and size, so what a run
   * reads is always verified and the next read is local; undefined when
   * neither holds it. `put` writes to the local store. Programs and inputs
   * uploaded through the API land in S3 when it is configured; this is how
   * a run on this node reads them.
   */
  contentStore(): ContentStore {
    return {
      get: async (cid) => {
        const sha256 = sha256OfCid(cid);
        const here = await this.local.get(cid);
        if (here || !this.remote) return here;
        const there = await this.remote.stat(sha256);
        if (!there) return undefined;
        await this.local.write(await this.remote.read(sha256), { sha256, size: there.size });
        return await this.local.get(cid);
      },
      put: (bytes) => this.local.put(bytes),
    };
  }

  /**
   * What this peer serves by CID to members who ask (the node answers only
   * over sync sessions with a remote that proved membership of a space):
   * artifact bytes, and the manifests it keeps, so member peers pin them and
   * a browser can check a run's provenance. Only what its own stores hold
   * (its bucket included): a request never turns into a fetch from other peers.
   */
  #served(): ContentStore {
    const local = this.contentStore();
    return {
      get: async (text) => {
        const cid = CID.parse(text);
        if (cid.code !== DAG_JSON) return await local.get(text);
        return await this.manifests.has(cid) ? await this.manifests.get(cid) : undefined;
      },
      put: (bytes) => local.put(bytes),
    };
  }

  /**
   * The store that holds an artifact the space may read, and its size;
   * not-found otherwise. An artifact neither store has (an output kept only
   * by the node that ran the job, with no shared bucket) is fetched from
   * the connected peers, checked against its digest, and kept locally.
   */
  async locate(space: string, sha256: string, signal?: AbortSignal): Promise<{ store: ArtifactStore; size: number }> {
    this.space(space);
    if (await this.refs.has(space, sha256)) {
      for (const store of [this.local, this.remote]) {
        const found = await store?.stat(sha256);
        if (store && found) return { store, size: found.size };
      }
      const timeout = AbortSignal.timeout(MESH_FETCH_MS);
      const fetched = await this.node.fetchBlob(rawCid(sha256), signal ? AbortSignal.any([signal, timeout]) : timeout);
      if (fetched) {
        await this.local.write([fetched], { sha256, size: fetched.length });
        return { store: this.local, size: fetched.length };
      }
    }
    throw notFound(`artifact ${sha256} (in this space, or on a connected peer)`);
  }

  /**
   * Fetch a manifest of `space` (from here or a connected peer), verify it
   * (no bytes downloaded) and keep it: pinned, its outputs readable here.
   */
  async manifest(space: string, cidText: string, signal?: AbortSignal): Promise<VerifiedManifest> {
    const s = this.space(space);
    const cid = parseManifestCid(cidText);
    const bytes = await this.manifests.get(cid, signal ? { signal } : {});
    const verified = await verifyManifest(cid, bytes, {
      validator: s.authority.validator,
      ...(this.#verifier ? { verifier: this.#verifier } : {}),
    });
    if (verified.manifest.space !== s.id) {
      throw new ArtifactError(
        "artifact/unauthorized",
        `manifest ${cid} is about ${verified.manifest.space}, not ${s.id}`,
      );
    }
    await this.#accept(verified);
    return verified;
  }

  /** A verified manifest is kept: pinned, and its outputs and log readable in its space. */
  async #accept(v: VerifiedManifest): Promise<void> {
    await this.manifests.pin(parseManifestCid(v.cid), { space: v.manifest.space, task: v.manifest.task });
    for (const o of manifestFiles(v.manifest)) await this.refs.add(v.manifest.space, o.sha256);
  }

  /** Verify a manifest and every byte of its outputs and log; a report, never a throw for a failed check. */
  async verify(space: string, cidText: string, signal?: AbortSignal): Promise<VerifyReport> {
    let v: VerifiedManifest;
    try {
      v = await this.manifest(space, cidText, signal);
    } catch (e) {
      return { cid: cidText, ok: false, error: problem(e), outputs: [] };
    }
    const m = v.manifest;
    const outputs: OutputCheck[] = [];
    for (const o of manifestFiles(m)) {
      const check: OutputCheck = { path: o.path, size: o.size, sha256: o.sha256, ok: false };
      try {
        const { store } = await this.locate(space, o.sha256, signal);
        check.from = store.kind;
        await verifyOutput(o, await store.read(o.sha256, signal ? { signal } : {}), this.#hasher);
        check.ok = true;
      } catch (e) {
        check.error = problem(e);
      }
      outputs.push(check);
    }
    return {
      cid: v.cid,
      ok: outputs.every((o) => o.ok),
      space: m.space,
      task: m.task,
      runner: m.runner,
      status: m.status,
      startedAt: m.startedAt,
      endedAt: m.endedAt,
      spec: m.spec,
      invocation: v.invocation.cid.toString(),
      chain: v.chain.map((d) => d.cid.toString()),
      outputs,
    };
  }

  /** The manifests the space's tasks record, and the artifacts put in it. */
  async list(
    space: string,
  ): Promise<{ manifests: ManifestSummary[]; artifacts: Array<{ sha256: string; cid: string }> }> {
    const s = this.space(space);
    const manifests: ManifestSummary[] = [];
    for (const t of s.tasks()) {
      for (const r of t.results) {
        if (!r.manifest) continue;
        const pinned = await this.manifests.isPinned(parseManifestCid(r.manifest)).catch(() => false);
        manifests.push({ cid: r.manifest, task: t.id, title: t.title, outcome: r.outcome, by: r.by, pinned });
      }
    }
    const artifacts = (await this.refs.list(space)).map((sha256) => ({ sha256, cid: rawCid(sha256) }));
    return { manifests, artifacts };
  }

  /**
   * Record a finished run of this node: its outputs (already in the local
   * store, where runners write them) are published to S3 when configured,
   * the manifest is signed with this node's key under its run capability,
   * verified, stored and pinned. Resolves with the manifest and its CID,
   * which the task's result operation then records. `as`: the run was made
   * by another principal held on this node (a bridge), which signs the
   * provenance under its own run capability.
   */
  async recordRun(space: string, run: RunToRecord, as: Signer = this.node.signer): Promise<BuiltManifest> {
    const s = this.space(space);
    const command = runCommand(run.spec.runner);
    const chains = s.authority.chainsFor(as.did, command, Math.floor(run.result.startedAt / 1000));
    if (chains.length === 0) {
      const who = as.did === this.node.did ? "this node" : as.did;
      throw new WeftError("Forbidden", "cap/missing", `${who} holds no delegation for ${command} in ${s.id}`);
    }
    const outputs: ManifestOutput[] = [];
    for (const o of run.result.outputs) {
      const here = await this.local.stat(o.sha256);
      if (here?.size !== o.size) {
        throw new ArtifactError("artifact/digest-mismatch", `output ${o.path} (${o.sha256}) is not in the local store`);
      }
      outputs.push({
        path: o.path,
        size: o.size,
        sha256: o.sha256,
        cid: o.cid,
        mediaType: run.mediaTypes?.[o.path] ?? mediaTypeOf(o.path),
        locations: await this.#publish(o),
      });
    }
    const stored = await this.local.write([run.log]);
    const log: RunLogFile = {
      size: stored.size,
      sha256: stored.sha256,
      cid: stored.cid,
      mediaType: RUN_LOG_MEDIA_TYPE,
      locations: await this.#publish(stored),
    };
    let last: unknown;
    for (const chain of chains) {
      const built = await buildManifest(as, chain, {
        space: s.id,
        task: run.task,
        spec: run.spec,
        result: run.result,
        outputs,
        log,
      });
      let verified: VerifiedManifest;
      try {
        verified = await verifyManifest(built.cid, built.bytes, {
          validator: s.authority.validator,
          ...(this.#verifier ? { verifier: this.#verifier } : {}),
        });
      } catch (e) {
        last = e; // this chain's policies refuse the run; try the next
        continue;
      }
      await this.manifests.put(built.bytes, { space: s.id, task: run.task });
      await this.#accept(verified);
      return built;
    }
    throw last;
  }

  /** Where a file of a run, already in the local store, is kept: also in S3 when configured (listed first). */
  async #publish(file: { sha256: string; size: number }): Promise<ManifestOutput["locations"]> {
    const locations: ManifestOutput["locations"] = [this.local.location()];
    if (this.remote) {
      await this.remote.write(await this.local.read(file.sha256), { sha256: file.sha256, size: file.size });
      locations.unshift(this.remote.location(file.sha256));
    }
    return locations;
  }

  async stop(): Promise<void> {
    await this.manifests.stop();
    this.remote?.destroy();
  }
}
