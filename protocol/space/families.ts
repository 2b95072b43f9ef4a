/**
 * The operation families a space's log knows besides tasks (which every log
 * has): each family's commands are judged like tasks' and reduced by its
 * own reducer (see protocol/README.md, "Operation families"). A new family
 * is one line here.
 */
import type { OpFamily } from "../tasks/family.ts";
import { repoFamily } from "../repo/family.ts";
import { patchFamily } from "../patch/family.ts";
import { approvalFamily } from "../approvals/family.ts";

export const FAMILIES: readonly OpFamily[] = [
  repoFamily as OpFamily,
  patchFamily as OpFamily,
  approvalFamily as OpFamily,
];
