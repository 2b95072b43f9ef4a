/** Capacity adverts: what a node offers to run, as signed gossip. */
export * from "./advert.ts";
