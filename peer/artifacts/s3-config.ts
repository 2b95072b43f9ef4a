/**
 * The S3 settings of a peer, from its weft.toml `[artifacts.s3]` table and
 * `WEFT_S3_*` environment variables (the environment wins) — never from a
 * task or a document. Without a bucket there is no S3 store and artifacts
 * stay in the local store. Credentials may be given here or left to the
 * AWS SDK's own chain (AWS_* variables, shared config, instance roles).
 */
import { WeftError } from "#protocol";

export interface S3Settings {
  /** e.g. http://127.0.0.1:9000 for MinIO; omitted for AWS itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Key prefix, "" or ending in "/". */
  prefix: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** weft.toml keys of `[artifacts.s3]`, and the environment variables that override them. */
export const S3_KEYS = {
  endpoint: "WEFT_S3_ENDPOINT",
  region: "WEFT_S3_REGION",
  bucket: "WEFT_S3_BUCKET",
  prefix: "WEFT_S3_PREFIX",
  force_path_style: "WEFT_S3_FORCE_PATH_STYLE",
  access_key_id: "WEFT_S3_ACCESS_KEY_ID",
  secret_access_key: "WEFT_S3_SECRET_ACCESS_KEY",
  session_token: "WEFT_S3_SESSION_TOKEN",
} as const;

type Key = keyof typeof S3_KEYS;

/**
 * Refuse a setting, naming where it came from and the key. The error has
 * the name and code of the daemon's ConfigError without importing it, so
 * that config.ts can import these settings without an import cycle.
 */
export function invalidSetting(source: string, key: string, must: string): never {
  throw new WeftError("ConfigError", "config/invalid", `${source}: ${key} ${must}`);
}

function text(v: unknown, source: string, key: string, pattern: RegExp, must: string): string {
  if (typeof v !== "string" || !pattern.test(v)) invalidSetting(source, key, must);
  return v;
}

function flag(v: unknown, source: string, key: string): boolean {
  if (v === true || v === "true" || v === "1") return true;
  if (v === false || v === "false" || v === "0") return false;
  return invalidSetting(source, key, "must be true or false");
}

/**
 * The S3 settings, or undefined when no bucket is configured. `table` is
 * the parsed `[artifacts.s3]` table (if any); `env` the process environment.
 */
export function s3Settings(
  table: Record<string, unknown> | undefined,
  env: Record<string, string | undefined>,
  tableSource = "weft.toml",
): S3Settings | undefined {
  const values = new Map<Key, { value: unknown; source: string; name: string }>();
  for (const [k, v] of Object.entries(table ?? {})) {
    if (!(k in S3_KEYS)) invalidSetting(tableSource, `artifacts.s3.${k}`, "is not a known setting");
    values.set(k as Key, { value: v, source: tableSource, name: `artifacts.s3.${k}` });
  }
  for (const [k, name] of Object.entries(S3_KEYS) as [Key, string][]) {
    if (env[name] !== undefined && env[name] !== "") values.set(k, { value: env[name], source: "environment", name });
  }
  const get = <T>(k: Key, parse: (v: unknown, source: string, name: string) => T): T | undefined => {
    const e = values.get(k);
    return e === undefined ? undefined : parse(e.value, e.source, e.name);
  };
  const bucket = get(
    "bucket",
    (v, s, n) => text(v, s, n, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
  );
  if (bucket === undefined) {
    const [first] = values.values();
    if (first !== undefined) {
      const key = first.source === "environment" ? S3_KEYS.bucket : "artifacts.s3.bucket";
      invalidSetting(first.source, key, `is required when other S3 settings (${first.name}) are given`);
    }
    return undefined;
  }
  const endpoint = get("endpoint", (v, s, n) => {
    const url = text(v, s, n, /^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL");
    return url.replace(/\/$/, "");
  });
  const accessKeyId = get("access_key_id", (v, s, n) => text(v, s, n, /^\S{1,256}$/, "must be a non-empty key id"));
  const secretAccessKey = get(
    "secret_access_key",
    (v, s, n) => text(v, s, n, /^\S{1,256}$/, "must be a non-empty secret"),
  );
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    invalidSetting(
      "S3 settings",
      "access_key_id and secret_access_key",
      "must be given together (or neither, for the AWS SDK's own chain)",
    );
  }
  const sessionToken = get("session_token", (v, s, n) => text(v, s, n, /^\S{1,4096}$/, "must be a non-empty token"));
  const prefix =
    get("prefix", (v, s, n) => text(v, s, n, /^[A-Za-z0-9!_.*'()/-]{0,256}$/, "must be a key prefix like weft/")) ??
      "weft/";
  return {
    ...(endpoint !== undefined ? { endpoint } : {}),
    region: get("region", (v, s, n) => text(v, s, n, /^[a-z0-9-]{1,32}$/, "must be a region like us-east-1")) ??
      "us-east-1",
    bucket,
    prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`,
    forcePathStyle: get("force_path_style", flag) ?? endpoint !== undefined,
    ...(accessKeyId !== undefined ? { accessKeyId } : {}),
    ...(secretAccessKey !== undefined ? { secretAccessKey } : {}),
    ...(sessionToken !== undefined ? { sessionToken } : {}),
  };
}
