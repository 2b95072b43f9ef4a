/**
 * A DM through the Nostr bridge against a plain NIP-17 round trip through
 * the same relay, in the same run: a stock nostr-tools phone DMs "status?"
 * and "new task: …" to the paired bridge (unwrap, checks, durable dedupe,
 * rate limit, the command under the person's delegation, a gift-wrapped
 * reply) and, as the baseline, the same text to a bare nostr-tools echo
 * responder that unwraps and replies. For "new task" also DM sent → task
 * seen on the second peer. p50 and p95 over N messages each.
 */
import process from "node:process";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { Relay } from "nostr-tools/relay";
import * as nip17 from "nostr-tools/nip17";
import { Phone } from "../helpers/nostr-phone.ts";
import { pairPhone, rig, stop } from "../helpers/nostr-rig.ts";
import { report } from "./report.ts";

const BENCH = "nostr-dm";
const N = Number(process.env.WEFT_NOSTR_DMS ?? 40);
const r = await rig({ rate_burst: 1_000, rate_per_minute: 10_000 });
const phone = await Phone.connect(r.relay.url);
await pairPhone(r, phone);

// The baseline: a bare responder on the same relay, replying to each DM with a DM.
const echoKey = generateSecretKey();
const echo = await Relay.connect(r.relay.url);
echo.subscribe([{ kinds: [1059], "#p": [getPublicKey(echoKey)] }], {
  onevent: (e) => {
    const rumor = nip17.unwrapEvent(e, echoKey);
    void echo.publish(nip17.wrapEvent(echoKey, { publicKey: rumor.pubkey }, `echo ${rumor.content}`));
  },
});

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Milliseconds from sending `text` to `to` until the reply arrives, N times. */
async function roundTrips(
  to: string,
  text: (i: number) => string,
  seen?: (i: number) => Promise<number>,
  ownSecond = false,
) {
  const replies: number[] = [];
  const tasks: number[] = [];
  for (let i = 0; i < N; i++) {
    if (ownSecond) await new Promise((res) => setTimeout(res, 1000 - (Date.now() % 1000) + 5));
    const next = phone.next();
    const t0 = performance.now();
    await phone.send(to, text(i));
    await next;
    replies.push(performance.now() - t0);
    if (seen) tasks.push((await seen(i)) - t0);
  }
  return { replies, tasks };
}

/** When the task titled `title` is on peer b (performance.now()). */
function onB(title: string): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      if (r.joined.tasks().some((t) => t.title === title)) {
        off();
        resolve(performance.now());
      }
    };
    const off = r.joined.subscribe(check);
    check();
  });
}

const echoPub = getPublicKey(echoKey);
const stage = (s: string) => process.env.WEFT_BENCH_DEBUG && console.error(new Date().toISOString(), s);
stage("paired");
const base = await roundTrips(echoPub, (i) => `status? ${i}`);
stage("baseline done");
// Two "status?" DMs in one second are one rumor (same id: NIP-01 hashes the second, not the millisecond), which the
// bridge rightly answers once; so each is sent in a second of its own.
const status = await roundTrips(r.bridge.pubkey!, () => "status?", undefined, true);
stage("status done");
const pending = new Map<number, Promise<number>>();
const created = await roundTrips(r.bridge.pubkey!, (i) => {
  pending.set(i, onB(`bench task ${i}`));
  return `new task: bench task ${i}`;
}, (i) => pending.get(i)!);

for (const q of [0.5, 0.95]) {
  const p = `p${q * 100}`;
  const baseline = quantile(base.replies, q);
  report({ bench: BENCH, metric: `status-reply-${p}`, value: quantile(status.replies, q), unit: "ms", baseline });
  report({ bench: BENCH, metric: `new-task-reply-${p}`, value: quantile(created.replies, q), unit: "ms", baseline });
  report({
    bench: BENCH,
    metric: `new-task-on-second-peer-${p}`,
    value: quantile(created.tasks, q),
    unit: "ms",
    baseline,
    note: "DM sent → task seen on peer b; baseline: a bare NIP-17 echo round trip on the same relay",
  });
}
echo.close();
phone.close();
await stop(r);
process.exit(0);
