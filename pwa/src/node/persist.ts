/**
 * Asking the browser to keep this origin's storage (IndexedDB: keys,
 * spaces, blobs) instead of evicting it when the disk runs low. A space
 * created here lives nowhere else until another device joins it, so the
 * browser is asked when one is created; whether it agreed is shown.
 */
export type Persistence = "persistent" | "best-effort" | "unsupported";

export async function persistence(): Promise<Persistence> {
  if (!navigator.storage?.persisted) return "unsupported";
  return (await navigator.storage.persisted()) ? "persistent" : "best-effort";
}

/** Ask for persistent storage (the browser may grant it, ask the user, or refuse); resolves to what holds now. */
export async function askPersistence(): Promise<Persistence> {
  if (!navigator.storage?.persist) return "unsupported";
  return (await navigator.storage.persist()) ? "persistent" : "best-effort";
}
