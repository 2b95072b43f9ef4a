/**
 * isomorphic-git reads and writes objects through Node's `Buffer`, which a
 * browser lacks: give it the standard `buffer` package's before any git
 * code runs (import this module first wherever isomorphic-git is loaded).
 */
import { Buffer } from "buffer";

(globalThis as { Buffer?: unknown }).Buffer ??= Buffer;
