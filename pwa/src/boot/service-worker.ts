/**
 * Registering the service worker (sw.ts, which makes the app open offline)
 * and following its state for the settings page: installing, active
 * (offline ready), an update waiting, or unavailable. An update takes over
 * only when the user asks, then the page reloads once onto it. Once a
 * worker is active, it is asked to cache what the app loads on demand.
 */
export type WorkerState = "unsupported" | "installing" | "active" | "update-ready" | "failed";

class ServiceWorkerStatus {
  state: WorkerState = "installing";
  error?: string;
  #registration?: ServiceWorkerRegistration;
  readonly #listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  set(state: WorkerState, error?: string): void {
    this.state = state;
    this.error = error;
    for (const l of this.#listeners) l();
  }

  track(registration: ServiceWorkerRegistration): void {
    this.#registration = registration;
    const update = () => {
      if (registration.waiting && navigator.serviceWorker.controller) this.set("update-ready");
      else if (registration.active) this.set("active");
      if (registration.active?.state === "activated") registration.active.postMessage({ type: "cache-later" });
    };
    registration.active?.addEventListener("statechange", update);
    registration.addEventListener("updatefound", () => {
      registration.installing?.addEventListener("statechange", update);
    });
    registration.installing?.addEventListener("statechange", update);
    update();
  }

  /** Let the waiting version take over; the page reloads when it has. */
  applyUpdate(): void {
    const waiting = this.#registration?.waiting;
    if (!waiting) return;
    navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
    waiting.postMessage({ type: "skip-waiting" });
  }
}

export const serviceWorker = new ServiceWorkerStatus();

export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) {
    serviceWorker.set("unsupported");
    return;
  }
  navigator.serviceWorker.register("./sw.js", { scope: "./" }).then(
    (registration) => serviceWorker.track(registration),
    (e: Error) => serviceWorker.set("failed", e.message),
  );
}
