/** Capacity adverts: what a node offers to run, as signed gossip, and the loop that advertises it. */
export * from "./advert.ts";
export * from "./advertiser.ts";
