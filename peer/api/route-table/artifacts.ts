import { Commands } from "#protocol/ucan";
import { object, required, str } from "#protocol/schema";
import { SHA256_HEX } from "#protocol/artifacts";
import { q, type RouteDef } from "./def.ts";

/**
 * The artifact routes: space queries like the rest, but their bodies and
 * answers stream (artifact-routes.ts serves them, when the peer has an
 * artifact service), so an upload's invocation names its sha-256 and size
 * in the query instead of a body digest.
 */
export const ARTIFACT_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts",
    summary: "Manifests the space's tasks record, and artifacts put in the space",
    auth: q(Commands.artifactGet),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/artifacts",
    summary: "Upload an artifact: the raw body, streamed; it must match ?sha256= and ?size= or nothing is kept",
    auth: q(Commands.artifactPut),
    query: object({ sha256: required(str(64, 64, SHA256_HEX)), size: required(str(1, 16, /^\d+$/)) }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts/:cid",
    summary: "By raw CID: the artifact's bytes (Range: bytes=N- resumes). By manifest CID: the verified manifest",
    auth: q(Commands.artifactGet),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts/:cid/verify",
    summary: "Verify a manifest: its signature, the runner's run capability, and every byte of its outputs",
    auth: q(Commands.artifactGet),
  },
];
