/**
 * The Radicle bridge's typed errors: what is wrong with an object read
 * from a Radicle repository, a forged change, or a git command that failed.
 */
import { WeftError } from "#protocol";

/** Bytes that are not what heartwood writes (a commit, a change, an action, a signature). */
export class RadicleMalformed extends WeftError {
  constructor(what: string, why: string) {
    super("RadicleMalformed", "radicle/malformed", `${what}: ${why}`);
  }
}

/** A change whose signature does not verify, or whose signer is not the author it claims. */
export class RadicleForged extends WeftError {
  constructor(what: string, why: string) {
    super("RadicleForged", "radicle/forged", `${what} refused: ${why}`);
  }
}

/** A git command on the Radicle repository failed; the message carries git's own words. */
export class RadicleGitFailed extends WeftError {
  constructor(command: string, why: string) {
    super("RadicleGitFailed", "radicle/git", `git ${command} failed: ${why}`);
  }
}
