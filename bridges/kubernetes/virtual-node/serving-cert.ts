/**
 * The TLS certificate the virtual node's log endpoint serves with, made
 * once with the system's openssl and kept in its state dir: a P-256 key and
 * a self-signed certificate for the node's name and address. The API server
 * does not check a kubelet's serving certificate unless it is given a CA
 * for them (--kubelet-certificate-authority); where it is, give the node a
 * certificate signed by that CA instead (--tls-cert, --tls-key).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

export interface ServingCert {
  cert: Buffer;
  key: Buffer;
}

export async function selfSignedCert(dir: string, name: string, address: string): Promise<ServingCert> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (!existsSync(cert) || !existsSync(key)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "3650",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name},IP:${address}`,
      "-keyout",
      key,
      "-out",
      cert,
    ]);
  }
  return { cert: await readFile(cert), key: await readFile(key) };
}
