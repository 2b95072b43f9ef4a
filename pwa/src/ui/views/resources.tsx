/**
 * Resources: the capacity each live node advertises on the space's gossip
 * (cores and load, memory, GPUs, runner kinds, job slots, version), with a
 * live chart of load and memory. Adverts are signed and expire; a node that
 * stops advertising drops out when its last advert lapses. This tab can
 * join them: the toggle offers its capacity for WASM jobs (node/offer.ts).
 */
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { missing } from "../why-not.ts";
import { useEvents, useTick } from "../../model/hooks.ts";
import { useAction, useApp, useSpace } from "../context.ts";
import { ago, mb, namesOf, who } from "../format.ts";
import { CapacityChart } from "./capacity-chart.tsx";

export function Resources(props: { space: Space }) {
  const { bn } = useApp();
  useSpace(props.space);
  useTick(2000);
  useEvents((fire) => bn.capacity.subscribe(fire), [bn]);
  const now = Date.now();
  const adverts = bn.capacity.adverts(props.space.id).sort((a, b) => (a.node < b.node ? -1 : 1));
  const names = namesOf(props.space);
  const label = (did: string) => who(did, names, bn.did);
  const series = adverts.map((a) => ({
    node: a.node,
    label: label(a.node),
    samples: bn.capacity.series(props.space.id, a.node),
  }));
  const total = adverts.reduce(
    (t, a) => ({
      cores: t.cores + a.cpu.cores,
      gpus: t.gpus + a.gpus,
      slots: t.slots + a.slots,
      running: t.running + a.running,
    }),
    { cores: 0, gpus: 0, slots: 0, running: 0 },
  );
  return (
    <section aria-labelledby="resources-title" class="stack">
      <h1 id="resources-title">Resources</h1>
      <OfferToggle space={props.space} />
      {adverts.length === 0
        ? (
          <p class="empty" data-empty="capacity">
            {bn.capacity.hasGossip(props.space.id)
              ? "No live capacity adverts in this space: no node is advertising right now."
              : "No capacity adverts have reached this browser: it hears a space's gossip through the peer it syncs with, and none has relayed any for this space."}
          </p>
        )
        : (
          <>
            <p>
              {adverts.length} live node{adverts.length === 1 ? "" : "s"}: {total.cores} cores, {total.gpus} GPUs,{" "}
              {total.running} jobs running, {total.slots} free slots.
            </p>
            <div class="charts">
              <CapacityChart
                title="CPU load (100 % is one core busy)"
                unit="%"
                series={series}
                value={(s) => 100 * s.load}
                max={100 * Math.max(1, ...adverts.map((a) => a.cpu.cores))}
                now={now}
              />
              <CapacityChart
                title="Memory in use"
                unit="%"
                series={series}
                value={(s) => (100 * s.memUsedMb) / Math.max(1, s.memTotalMb)}
                max={100}
                now={now}
              />
            </div>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">CPU</th>
                    <th scope="col">Memory</th>
                    <th scope="col">GPUs</th>
                    <th scope="col">Runners</th>
                    <th scope="col">Jobs</th>
                    <th scope="col" class="wide">Tags</th>
                    <th scope="col" class="wide">Version</th>
                    <th scope="col">Advert</th>
                  </tr>
                </thead>
                <tbody>
                  {adverts.map((a) => (
                    <tr key={a.node}>
                      <td>
                        <span title={a.node}>{label(a.node)}</span>
                        {a.ephemeral && <span class="tag">ephemeral</span>}
                      </td>
                      <td>{a.cpu.cores} cores, load {a.cpu.load}</td>
                      <td>{mb(a.memoryMb.free)} free of {mb(a.memoryMb.total)}</td>
                      <td>{a.gpus}</td>
                      <td>{a.runners.join(", ") || "none"}</td>
                      <td>{a.running} running, {a.slots} free</td>
                      <td class="wide">{a.tags.join(", ")}</td>
                      <td class="wide">{a.version}</td>
                      <td>{ago(a.at, now)}, expires in {Math.max(0, Math.round((a.expires - now) / 1000))} s</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
    </section>
  );
}

/** Offer this tab's capacity for WASM jobs: the scheduler runs here, jobs run in Web Workers. */
function OfferToggle(props: { space: Space }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  useEvents((fire) => bn.offer.subscribe(fire), [bn]);
  const { state, error } = bn.offer;
  const on = bn.offering;
  const mayAdvertise = can(props.space, bn.did, Commands.capacityAdvertise);
  const mayClaim = can(props.space, bn.did, Commands.taskClaim);
  const said = {
    off: "This tab runs no jobs.",
    starting: "Loading the WebAssembly runner…",
    on: `This tab offers ${bn.offer.scheduler?.free ?? 0} free slot${
      bn.offer.scheduler?.free === 1 ? "" : "s"
    } for WASM jobs (${bn.offer.scheduler?.running ?? 0} running), each in a Web Worker, while it stays open.`,
    stopping: "Stopping: jobs here are stopped and handed back to the mesh…",
    failed: `The runner could not start: ${error}`,
  }[state];
  return (
    <div class="offer">
      <label class="check">
        <input
          id="offer-capacity"
          type="checkbox"
          checked={on}
          disabled={busy || state === "starting" || state === "stopping"}
          aria-describedby="offer-state"
          onChange={(e) => {
            const want = (e.target as HTMLInputElement).checked;
            void run(() => bn.setOffer(want), want ? "Offering this tab's capacity" : "This tab no longer runs jobs");
          }}
        />
        Offer this tab's capacity for WASM jobs
      </label>
      <span id="offer-state" class="hint" role="status" data-offer-state={state}>
        {said}
        {on && !mayAdvertise &&
          ` It cannot advertise in this space: ${missing(props.space, bn.did, Commands.capacityAdvertise)}.`}
        {on && mayAdvertise && !mayClaim &&
          ` It cannot take jobs in this space: ${missing(props.space, bn.did, Commands.taskClaim)}.`}
      </span>
    </div>
  );
}
