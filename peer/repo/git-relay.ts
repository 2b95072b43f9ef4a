/**
 * The command `git fetch` runs for an `ext::` remote (see git-fetch.ts): it
 * joins git's stdin and stdout to the Unix socket (in a directory only this
 * user can enter) on which the fetching peer holds the `/weft/git/1`
 * stream, so git speaks its own protocol to the remote upload-pack. It
 * knows nothing of Weft; it only moves bytes both ways and half-closes
 * each side when its source ends.
 *
 *   node git-relay.ts <socket path>
 */
import { connect } from "node:net";

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: git-relay.ts <socket path>\n");
  process.exit(2);
}
const socket = connect({ path, allowHalfOpen: true });
socket.on("error", (e) => {
  process.stderr.write(`weft git relay: ${e.message}\n`);
  process.exit(1);
});
process.stdin.pipe(socket);
socket.pipe(process.stdout);
