/**
 * A real Kubernetes control plane for tests: Debian's etcd, and the
 * kube-apiserver, kube-scheduler and kube-controller-manager `.ci/setup`
 * builds from Debian's source (cached under ~/.cache/weft/kubernetes/bin),
 * on loopback ports picked here, in a temp dir, with token auth. No kubelet
 * runs: a Node is only what something registers (the Weft virtual node).
 * `stop()` kills every process and removes the dir.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./nodes.ts";
import { selfSignedCert, type ServingCert } from "../../bridges/kubernetes/virtual-node/serving-cert.ts";

const openssl = (...args: string[]) => promisify(execFile)("openssl", args);

/** A CA and the API server's kubelet client certificate signed by it (as kubeadm makes them). */
export async function kubeletClientCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const [ca, caKey, cert, key, csr] = [
    "kubelet-ca.crt",
    "kubelet-ca.key",
    "kubelet-client.crt",
    "kubelet-client.key",
    "c.csr",
  ]
    .map((f) => join(dir, f));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl("req", "-x509", ...ec, "-days", "2", "-subj", "/CN=weft-test-ca", "-keyout", caKey, "-out", ca);
  await openssl(
    "req",
    "-new",
    ...ec,
    "-subj",
    "/O=system:masters/CN=kube-apiserver-kubelet-client",
    "-keyout",
    key,
    "-out",
    csr,
  );
  await openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-out", cert);
  return { ca, cert, key };
}

export const KUBE_BIN = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weft", "kubernetes", "bin");

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly token: string;
  /** A kubeconfig file for the admin token (TLS not verified: the apiserver's cert is self-signed in its temp dir). */
  readonly kubeconfig: string;
  readonly dir: string;
  /** The CA that signed the API server's kubelet client certificate: what a (virtual) kubelet checks callers against. */
  readonly kubeletClientCa: string;
  /** TLS for a virtual node's log endpoint: a serving certificate, and the client CA above. */
  nodeTls(name: string): Promise<ServingCert & { clientCa: Buffer }>;
  /** Kill one component by name (to test failures), or all of them and remove the dir. */
  kill(component: "scheduler" | "controller-manager"): void;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Run kube-scheduler (pods get bound to nodes). Default true. */
  scheduler?: boolean;
  /** Run kube-controller-manager (Jobs make pods; nodes that stop renewing go NotReady). Default true. */
  controllerManager?: boolean;
  /** How long a node may go without renewing before it is NotReady. Default 6 s. */
  nodeGraceSeconds?: number;
  /**
   * How long a pod stays on a NotReady or unreachable node before the node
   * controller evicts it (the tolerations the API server gives every pod).
   * Default 300 s, the cluster default.
   */
  evictionSeconds?: number;
}

export function controlPlaneBuilt(): boolean {
  return ["kube-apiserver", "kube-scheduler", "kube-controller-manager"].every((b) => existsSync(join(KUBE_BIN, b)));
}

/** Whether the API server says it is ready (its certificate is self-signed: not verified here). */
function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(`${server}/readyz`, {
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
    }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function launch(command: string, args: string[], logs: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    logs.push(chunk);
    if (logs.length > 200) logs.shift();
  });
  return child;
}

export async function startControlPlane(o: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (!controlPlaneBuilt()) {
    throw new Error(`no Kubernetes control plane in ${KUBE_BIN}: run bash .ci/setup (it builds and caches it)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "weft-kube-"));
  const token = randomBytes(24).toString("hex");
  const [etcdClient, etcdPeer, apiPort, schedPort, cmPort] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => freePort()),
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await mkdir(join(dir, "certs"));
  await writeFile(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
  const kubelet = await kubeletClientCerts(join(dir, "certs"));
  await writeFile(join(dir, "tokens.csv"), `${token},weft-admin,weft-admin,"system:masters"\n`, { mode: 0o600 });
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "weft-test", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "weft-admin", user: { token } }],
      contexts: [{ name: "weft-test", context: { cluster: "weft-test", user: "weft-admin", namespace: "default" } }],
      "current-context": "weft-test",
    }),
    { mode: 0o600 },
  );

  const logs: Record<string, string[]> = {};
  const procs = new Map<string, ChildProcess>();
  const run = (name: string, command: string, args: string[]) => {
    logs[name] = [];
    procs.set(name, launch(command, args, logs[name]));
  };
  const stop = async () => {
    await Promise.all([...procs.values()].map((p) =>
      new Promise<void>((r) => {
        if (p.exitCode !== null || p.signalCode !== null) return r();
        p.once("exit", () => r());
        p.kill("SIGKILL");
      })
    ));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    run("etcd", "etcd", [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync",
    ]);
    run("apiserver", join(KUBE_BIN, "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      "--insecure-port=0",
      `--cert-dir=${join(dir, "certs")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.96.0.0/16",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      "--api-audiences=https://kubernetes.default.svc",
      // How it proves itself to kubelets (the virtual node's log endpoint checks it against the CA).
      `--kubelet-client-certificate=${kubelet.cert}`,
      `--kubelet-client-key=${kubelet.key}`,
      "--kubelet-preferred-address-types=InternalIP",
      `--default-not-ready-toleration-seconds=${o.evictionSeconds ?? 300}`,
      `--default-unreachable-toleration-seconds=${o.evictionSeconds ?? 300}`,
    ]);
    await eventually(
      async () => {
        const exited = procs.get("apiserver")?.exitCode ?? procs.get("etcd")?.exitCode;
        if (exited !== null && exited !== undefined) throw new Error(`exited with ${exited}`);
        return await readyz(server, token);
      },
      // Minutes, not seconds: on a 2-core machine shared by several suites it has taken over one.
      180_000,
      "the apiserver to be ready",
    );
    const common = [`--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--bind-address=127.0.0.1", "--port=0"];
    if (o.scheduler !== false) {
      run("scheduler", join(KUBE_BIN, "kube-scheduler"), [...common, `--secure-port=${schedPort}`]);
    }
    if (o.controllerManager !== false) {
      run("controller-manager", join(KUBE_BIN, "kube-controller-manager"), [
        ...common,
        `--secure-port=${cmPort}`,
        "--controllers=job,podgc,nodelifecycle,serviceaccount,serviceaccount-token,garbagecollector",
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${join(dir, "certs", "apiserver.crt")}`,
        "--use-service-account-credentials=false",
        "--node-monitor-period=1s",
        `--node-monitor-grace-period=${o.nodeGraceSeconds ?? 6}s`,
      ]);
    }
  } catch (e) {
    const tail = Object.entries(logs).map(([n, l]) => `--- ${n}\n${l.join("").slice(-2000)}`).join("\n");
    await stop();
    throw new Error(`the control plane did not start: ${(e as Error).message}\n${tail}`);
  }
  return {
    server,
    token,
    kubeconfig,
    dir,
    kubeletClientCa: kubelet.ca,
    async nodeTls(name) {
      return {
        ...await selfSignedCert(join(dir, "node-tls"), name, "127.0.0.1"),
        clientCa: await readFile(kubelet.ca),
      };
    },
    kill(component) {
      procs.get(component)?.kill("SIGKILL");
    },
    stop,
  };
}
