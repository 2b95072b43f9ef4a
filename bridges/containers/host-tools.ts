/**
 * The host's own /usr, read-only, as the root of a helper sandbox: the
 * merged-/usr symlinks Debian has, so host tools (tar, sh, true) run inside
 * bwrap with nothing else of the host visible.
 */
export const HOST_USR_ARGS: readonly string[] = [
  "--ro-bind",
  "/usr",
  "/usr",
  "--symlink",
  "usr/lib",
  "/lib",
  "--symlink",
  "usr/lib64",
  "/lib64",
  "--symlink",
  "usr/bin",
  "/bin",
  "--symlink",
  "usr/sbin",
  "/sbin",
  "--proc",
  "/proc",
  "--dev",
  "/dev",
  "--tmpfs",
  "/tmp",
];
