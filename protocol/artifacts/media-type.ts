/**
 * A media type for a run's output, from its file name: enough for a
 * browser or a reviewer to open a report; anything unknown is octet-stream.
 */
const BY_EXTENSION: Record<string, string> = {
  css: "text/css",
  csv: "text/csv",
  gz: "application/gzip",
  html: "text/html",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  js: "text/javascript",
  json: "application/json",
  jsonl: "application/jsonl",
  log: "text/plain",
  md: "text/markdown",
  pdf: "application/pdf",
  png: "image/png",
  svg: "image/svg+xml",
  tar: "application/x-tar",
  tgz: "application/gzip",
  txt: "text/plain",
  wasm: "application/wasm",
  xml: "application/xml",
  zip: "application/zip",
};

export function mediaTypeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  const ext = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  return BY_EXTENSION[ext] ?? "application/octet-stream";
}
