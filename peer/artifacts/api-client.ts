/**
 * The artifact half of the HTTP API client, for the CLI: streamed uploads
 * (the file is hashed first, since the invocation names its digest) and
 * resumable downloads (Range requests into a `.part` file). Each request
 * carries a fresh invocation naming it, from ApiClient.bearer.
 */
import { open, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { errorCodeOf } from "#protocol";
import { digestStream, sha256OfCid, type StoredArtifact } from "#protocol/artifacts";
import { type ApiClient, ApiError, DaemonUnreachable } from "../api/client.ts";
import { type Downloaded, downloadToFile } from "./download.ts";
import { nativeSha256Stream } from "../crypto/native-sha256.ts";
import type { ManifestSummary, VerifyReport } from "./service.ts";

const enc = encodeURIComponent;
const CHUNK = 1024 * 1024;

export interface ManifestView {
  cid: string;
  manifest: {
    space: string;
    task: string;
    spec: string;
    runner: { did: string; kind: string };
    status: string;
    startedAt: number;
    endedAt: number;
    outputs: Array<
      { path: string; size: number; sha256: string; cid: string; mediaType: string; locations: unknown[] }
    >;
  };
  invocation: string;
  chain: string[];
}

export class ArtifactClient {
  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async #request(
    method: "GET" | "POST",
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const bearer = await this.#api.bearer(method, path);
    let res: Response;
    try {
      res = await fetch(this.#api.url + path, {
        ...init,
        method,
        headers: { ...init.headers, authorization: `Bearer ${bearer}` },
      });
    } catch (e) {
      throw new DaemonUnreachable(this.#api.url, e);
    }
    if (res.ok || res.status === 416) return res;
    const text = await res.text();
    let err: { code?: string; message?: string } | undefined;
    try {
      err = JSON.parse(text).error;
    } catch {
      // not JSON: reported as is below
    }
    throw new ApiError(
      res.status,
      errorCodeOf(err?.code, "http"),
      err?.message ?? `HTTP ${res.status}: ${text.slice(0, 200)}`,
    );
  }

  async #json<T>(path: string): Promise<T> {
    return await (await this.#request("GET", path)).json() as T;
  }

  list(space: string): Promise<{ manifests: ManifestSummary[]; artifacts: Array<{ sha256: string; cid: string }> }> {
    return this.#json(`/v1/spaces/${enc(space)}/artifacts`);
  }

  manifest(space: string, cid: string): Promise<ManifestView> {
    return this.#json(`/v1/spaces/${enc(space)}/artifacts/${enc(cid)}`);
  }

  verify(space: string, cid: string): Promise<VerifyReport> {
    return this.#json(`/v1/spaces/${enc(space)}/artifacts/${enc(cid)}/verify`);
  }

  /** Upload a file: hashed first (`hashing` progress), then streamed (`sending` progress). */
  async upload(
    space: string,
    file: string,
    progress: { hashing(done: number, total: number): void; sending(done: number, total: number): void },
  ): Promise<StoredArtifact> {
    const size = (await stat(file)).size;
    let hashed = 0;
    const { sha256 } = await digestStream(
      (async function* () {
        for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
          hashed += chunk.length;
          progress.hashing(hashed, size);
          yield chunk as Uint8Array;
        }
      })(),
      nativeSha256Stream,
    );
    const handle = await open(file, "r");
    let sent = 0;
    const reader = handle.createReadStream({ highWaterMark: CHUNK })[Symbol.asyncIterator]();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const { done, value } = await reader.next();
        if (done) return ctl.close();
        sent += value.length;
        progress.sending(sent, size);
        ctl.enqueue(value);
      },
      async cancel() {
        await reader.return?.();
      },
    });
    const path = `/v1/spaces/${enc(space)}/artifacts?sha256=${sha256}&size=${size}`;
    try {
      const res = await this.#request(
        "POST",
        path,
        {
          body,
          headers: { "content-type": "application/octet-stream", "content-length": String(size) },
          duplex: "half",
        } as RequestInit & { headers: Record<string, string> },
      );
      return await res.json() as StoredArtifact;
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Download the artifact `cid` (raw CID) to `file`, resuming a `.part` file
   * left by an earlier attempt; every byte is checked against the CID's
   * sha-256 (and `size`, when known) before the file appears.
   */
  download(
    space: string,
    cid: string,
    file: string,
    options: { size?: number; onProgress?(done: number, total: number): void } = {},
  ): Promise<Downloaded> {
    const path = `/v1/spaces/${enc(space)}/artifacts/${enc(cid)}`;
    return downloadToFile({
      path: file,
      sha256: sha256OfCid(cid),
      ...(options.size !== undefined ? { size: options.size } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      open: async (offset, signal) => {
        const res = await this.#request("GET", path, {
          headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
          ...(signal ? { signal } : {}),
        });
        const range = res.headers.get("content-range");
        const total = range ? Number(range.split("/")[1]) : Number(res.headers.get("content-length"));
        if (res.status === 416) return { total, body: [] };
        if (offset > 0 && res.status !== 206) {
          throw new ApiError(res.status, "http", `the peer ignored the range request (HTTP ${res.status})`);
        }
        return { total, body: res.body as unknown as AsyncIterable<Uint8Array> };
      },
    });
  }
}
