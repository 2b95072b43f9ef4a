/**
 * In-process transport for tests and for tabs/workers in one page: pairs
 * of adapters joined by MessageChannels, running the same authenticated
 * session protocol as the network transports.
 */
import { type SessionAdapterOptions, SessionNetworkAdapter } from "./session-adapter.ts";

export class MemoryNetworkAdapter extends SessionNetworkAdapter {
  readonly #ports = new Set<MessagePort>();
  #started = false;
  readonly #queued: MessagePort[] = [];

  constructor(options: SessionAdapterOptions) {
    super(options);
  }

  protected start(): void {
    this.#started = true;
    for (const p of this.#queued.splice(0)) this.#attach(p);
    this.markReady();
  }

  /** Attach one end of a MessageChannel; the other end goes to the remote adapter. */
  attach(port: MessagePort): void {
    if (this.#started) this.#attach(port);
    else this.#queued.push(port);
  }

  #attach(port: MessagePort): void {
    this.#ports.add(port);
    const session = this.openSession({
      send: (frame) => port.postMessage(frame),
      close: () => {
        port.postMessage(null);
        port.close();
        this.#ports.delete(port);
      },
    });
    port.onmessage = (e: MessageEvent) => {
      if (e.data === null) session.close();
      else if (e.data instanceof Uint8Array) void session.receive(e.data);
    };
  }

  protected stop(): void {
    for (const p of this.#ports) p.close();
    this.#ports.clear();
  }
}

/** Connect two in-process adapters. */
export function linkMemoryAdapters(a: MemoryNetworkAdapter, b: MemoryNetworkAdapter): void {
  const { port1, port2 } = new MessageChannel();
  a.attach(port1);
  b.attach(port2);
}
