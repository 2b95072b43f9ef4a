/**
 * A person's Nostr client for tests: a stock nostr-tools key and relay
 * connection that sends NIP-17 DMs (gift-wrapped with nostr-tools' own
 * nip17) and collects the DMs addressed to it, unwrapped the way any client
 * unwraps them.
 */
import { generateSecretKey, getPublicKey, type NostrEvent } from "nostr-tools/pure";
import { Relay } from "nostr-tools/relay";
import * as nip17 from "nostr-tools/nip17";
import { eventually } from "./nodes.ts";

export class Phone {
  readonly secret: Uint8Array;
  readonly pubkey: string;
  /** The DMs received, in arrival order. */
  readonly inbox: Array<{ from: string; text: string; at: number }> = [];
  #relay?: Relay;
  #listeners = new Set<() => void>();

  private constructor(secret: Uint8Array) {
    this.secret = secret;
    this.pubkey = getPublicKey(secret);
  }

  /** A phone on the relay at `url`, with a new key or the given one (the same person, reconnecting). */
  static async connect(url: string, secret = generateSecretKey()): Promise<Phone> {
    const phone = new Phone(secret);
    phone.#relay = await Relay.connect(url);
    await new Promise<void>((resolve) => {
      phone.#relay!.subscribe([{ kinds: [1059], "#p": [phone.pubkey] }], {
        onevent: (e) => {
          const rumor = nip17.unwrapEvent(e, phone.secret);
          phone.inbox.push({ from: rumor.pubkey, text: rumor.content, at: performance.now() });
          for (const l of phone.#listeners) l();
        },
        oneose: () => resolve(),
      });
    });
    return phone;
  }

  /** Gift-wrap `text` to `to` and publish it; resolves with the wrap once the relay took it. */
  async send(to: string, text: string): Promise<NostrEvent> {
    const wrap = nip17.wrapEvent(this.secret, { publicKey: to }, text);
    await this.publish(wrap);
    return wrap;
  }

  /** Publish any event (a hand-made wrap) through this phone's connection. */
  async publish(event: NostrEvent): Promise<void> {
    await this.#relay!.publish(event);
  }

  /** The `n`th DM received (1-based), once it is here. */
  received(n: number, ms = 30_000): Promise<string> {
    return eventually(() => this.inbox[n - 1]?.text, ms, `DM #${n} to the phone`);
  }

  /** Resolves at the next DM received. */
  next(): Promise<string> {
    const at = this.inbox.length;
    return new Promise((resolve) => {
      const l = () => {
        if (this.inbox.length > at) {
          this.#listeners.delete(l);
          resolve(this.inbox[at].text);
        }
      };
      this.#listeners.add(l);
    });
  }

  close(): void {
    this.#relay?.close();
  }
}
