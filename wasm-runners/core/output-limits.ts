/**
 * Bounds on what one run may leave under /outputs besides its bytes, each
 * line of which becomes a line of the run's signed manifest: the sandbox
 * stops a job that goes past them, and the host checks the sandbox's report
 * against them again before it stores anything or builds a manifest (the
 * sandbox process is the job's, so its word is not trusted).
 */

/** Most files, directories and symlinks a job may create under /outputs. */
export const MAX_OUTPUT_ENTRIES = 10_000;

/** Most bytes of names (paths under /outputs) a job may give its entries, renames included. */
export const MAX_OUTPUT_NAME_BYTES = 1024 * 1024;
