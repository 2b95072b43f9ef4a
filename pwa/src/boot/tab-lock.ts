/**
 * One node per browser profile: two tabs running nodes with the same key
 * and storage would fight over sessions and documents. The first tab holds
 * a Web Lock for as long as it lives; another tab waits for it (and says
 * so) and starts its node once the first has gone.
 */
const LOCK = "weft-node";

export async function holdTabLock(waiting: () => void): Promise<void> {
  const locks = navigator.locks;
  if (!locks) return;
  const hold = () => new Promise<void>(() => {}); // released when this tab goes away
  const got = await new Promise<boolean>((resolve) => {
    void locks.request(LOCK, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock ? hold() : undefined;
    });
  });
  if (got) return;
  waiting();
  await new Promise<void>((resolve) => {
    void locks.request(LOCK, () => {
      resolve();
      return hold();
    });
  });
}
