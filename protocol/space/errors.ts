/**
 * The errors a space's writes end in, shared by every shell so the API and
 * the dashboard map the same failure to the same status and message:
 * missing authority, a write that lost a race, and an unknown task.
 */
import { WeftError } from "../errors.ts";

/** The author holds no delegation (or none whose policy accepts the arguments) for the command. */
export class Forbidden extends WeftError {
  constructor(message: string) {
    super("Forbidden", "cap/missing", message);
  }
}

/** The operation lost to a concurrent one (e.g. a claim with the same fence). */
export class Conflict extends WeftError {
  constructor(message: string) {
    super("Conflict", "task/conflict", message);
  }
}

/** An agent's step the space's approval gates hold back, without an approval that covers it. */
export class ApprovalRequired extends WeftError {
  constructor(message: string) {
    super("ApprovalRequired", "approval/required", message);
  }
}

export class NotFound extends WeftError {
  constructor(message: string) {
    super("NotFound", "not-found", message);
  }
}
