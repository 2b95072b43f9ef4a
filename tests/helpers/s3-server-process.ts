/**
 * A real S3-compatible server (s3rver) as its own process for tests:
 * `node s3-server-process.ts <dir> <port>` binds 127.0.0.1 (port 0: one the
 * OS picks), creates the bucket "weft", prints {"port"} on stdout once it
 * listens, and exits when its parent goes away.
 */
import process from "node:process";
import S3rver from "s3rver";

const [dir, port] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port ?? 0),
  directory: dir,
  silent: true,
  configureBuckets: [{ name: "weft", configs: [] }],
});
const { port: bound } = await server.run();
process.stdout.write(JSON.stringify({ port: bound }) + "\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
