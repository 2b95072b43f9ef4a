/**
 * The local CLI's credentials: its own key and two delegations from the
 * node — one on the node itself (`/weft/node`, to administer it) and a
 * powerline (`/weft` on any subject, to act in the node's spaces with the
 * node's authority). Written by the daemon to `<home>/cli.json`, mode 0600,
 * and kept across restarts (one CLI, one DID); a separate key from the
 * node's, so a leaked file can be revoked (peer/daemon/cli-key.ts).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fromBase64Url, toBase64Url, WeftError } from "#protocol";
import { generateSeed, type Signer } from "#protocol/identity";
import { decodeDelegation, delegate, type Delegation } from "#protocol/ucan";
import { nativeSigner } from "../crypto/native-signer.ts";
import { writeFileAtomic } from "../storage/atomic-file.ts";

export const NODE_COMMANDS = "/weft/node";
export const SPACE_COMMANDS = "/weft";

export interface Credentials {
  url: string;
  /** The node's DID (the audience of every invocation). */
  node: string;
  signer: Signer;
  nodeDelegation: Delegation;
  powerline: Delegation;
}

interface CredentialsFile {
  version: 1;
  url: string;
  node: string;
  seed: string;
  tokens: string[];
}

export function credentialsPath(home: string): string {
  return join(home, "cli.json");
}

/** Issue fresh CLI credentials from the node's key and write them (0600, atomically). */
export async function issueCredentials(home: string, node: Signer, url: string): Promise<Credentials> {
  const seed = generateSeed();
  const signer = nativeSigner(seed);
  const nodeDelegation = await delegate({
    issuer: node,
    audience: signer.did,
    subject: node.did,
    command: NODE_COMMANDS,
    expiration: null,
    meta: { kind: "device", name: "cli" },
  });
  const powerline = await delegate({
    issuer: node,
    audience: signer.did,
    subject: null,
    command: SPACE_COMMANDS,
    expiration: null,
    meta: { kind: "device", name: "cli" },
  });
  const file: CredentialsFile = {
    version: 1,
    url,
    node: node.did,
    seed: toBase64Url(seed),
    tokens: [toBase64Url(nodeDelegation.bytes), toBase64Url(powerline.bytes)],
  };
  await writeCredentials(home, file);
  return { url, node: node.did, signer, nodeDelegation, powerline };
}

async function writeCredentials(home: string, file: CredentialsFile): Promise<void> {
  await writeFileAtomic(credentialsPath(home), JSON.stringify(file, null, 2) + "\n", 0o600);
}

/**
 * The CLI's credentials as the daemon starts: the ones on disk if this node
 * issued them and neither delegation is revoked (with `url` brought up to
 * date), else fresh ones. So a restart does not make the CLI a new member.
 */
export async function keepCredentials(
  home: string,
  node: Signer,
  url: string,
  isRevoked: (delegationCid: string) => boolean,
): Promise<Credentials> {
  const kept = await loadCredentials(home).catch(() => undefined);
  const usable = kept && kept.node === node.did &&
    [kept.nodeDelegation, kept.powerline].every((d) => d.iss === node.did && !isRevoked(d.cid.toString()));
  if (!usable) return await issueCredentials(home, node, url);
  if (kept.url !== url) {
    const file = JSON.parse(await readFile(credentialsPath(home), "utf8")) as CredentialsFile;
    await writeCredentials(home, { ...file, url });
  }
  return { ...kept, url };
}

export async function loadCredentials(home: string): Promise<Credentials> {
  const path = credentialsPath(home);
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new WeftError(
        "NoCredentials",
        "cli/no-credentials",
        `no CLI credentials at ${path}: start the peer once (weft up) with WEFT_HOME=${home}`,
      );
    }
    throw e;
  }
  try {
    const f = JSON.parse(raw) as CredentialsFile;
    if (f.version !== 1 || f.tokens.length !== 2) throw new Error("version");
    const signer = nativeSigner(fromBase64Url(f.seed));
    const [nodeDelegation, powerline] = f.tokens.map((t) => decodeDelegation(fromBase64Url(t)));
    if (nodeDelegation.aud !== signer.did || powerline.aud !== signer.did) throw new Error("audience");
    return { url: f.url, node: f.node, signer, nodeDelegation, powerline };
  } catch {
    throw new WeftError(
      "NoCredentials",
      "cli/bad-credentials",
      `${path} is damaged; restart the peer to issue new ones`,
    );
  }
}
