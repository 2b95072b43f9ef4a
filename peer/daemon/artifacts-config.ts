/**
 * The peer's artifact settings, as the daemon's configuration reads them:
 * the `[artifacts.s3]` table of weft.toml and the WEFT_S3_* environment
 * variables (which win), validated by s3-config.ts. No `[artifacts.s3]`
 * bucket (and no WEFT_S3_BUCKET): artifacts stay in the local store.
 *
 * For config.ts: accept a top-level `artifacts` key in weft.toml (its
 * content is checked here), let the variables `isArtifactsEnv` names
 * through, and keep `artifactsConfig(toml, env, path)` in the Config.
 */
import { invalidSetting, S3_KEYS, type S3Settings, s3Settings } from "../artifacts/s3-config.ts";

export interface ArtifactsConfig {
  /** Where new artifacts go when set; the local store holds them otherwise. */
  s3?: S3Settings;
}

/** Whether an environment variable is an artifact setting (so not an unknown WEFT_* variable). */
export function isArtifactsEnv(name: string): boolean {
  return (Object.values(S3_KEYS) as string[]).includes(name);
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * The artifact settings from a parsed weft.toml (the whole document, or
 * undefined without one) and the environment; `source` names the file in
 * errors. Refuses unknown keys and bad values with a ConfigError
 * (code "config/invalid") naming the source and the key.
 */
export function artifactsConfig(
  toml: Record<string, unknown> | undefined,
  env: Record<string, string | undefined>,
  source = "weft.toml",
): ArtifactsConfig {
  const table = toml?.artifacts;
  if (table !== undefined && !isTable(table)) invalidSetting(source, "artifacts", "must be a table");
  for (const key of Object.keys(table ?? {})) {
    if (key !== "s3") invalidSetting(source, `artifacts.${key}`, "is not a known setting");
  }
  const s3Table = table?.s3;
  if (s3Table !== undefined && !isTable(s3Table)) invalidSetting(source, "artifacts.s3", "must be a table");
  const s3 = s3Settings(s3Table, env, source);
  return s3 ? { s3 } : {};
}

/** The commented section `weft init` can append to the weft.toml it writes. */
export const ARTIFACTS_TOML = `
[artifacts.s3]
# Keep artifacts in an S3-compatible bucket instead of only under the data dir.
# Every key can be overridden by WEFT_S3_<KEY> (e.g. WEFT_S3_BUCKET); without
# credentials here the AWS SDK's own chain (AWS_* variables, profiles, roles) is used.
# bucket = "weft-artifacts"
# endpoint = "http://127.0.0.1:9000"   # MinIO and others; omit for AWS
# region = "us-east-1"
# prefix = "weft/"
# force_path_style = true              # default: true when an endpoint is set
# access_key_id = "…"
# secret_access_key = "…"
`;
