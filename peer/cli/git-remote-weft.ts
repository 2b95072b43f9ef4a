/**
 * The `git-remote-weft` program git runs for `weft::<space>/<repo>` remotes
 * (entered through git-remote-weft.js, the bin): `git-remote-weft <remote>
 * <url>`, speaking the remote-helper protocol on stdin/stdout
 * (peer/repo/remote-helper.ts).
 */
import process from "node:process";
import { messageOf } from "#protocol";
import { runRemoteHelper } from "../repo/remote-helper.ts";

const url = process.argv[3] ?? process.argv[2];
try {
  if (!url) throw new Error("git runs this helper: use a weft::<space>/<repository> remote (git clone weft::…)");
  await runRemoteHelper(url, process.stdin, (s) => process.stdout.write(s));
} catch (e) {
  process.stderr.write(`fatal: weft: ${messageOf(e)}\n`);
  process.exitCode = 128;
}
