/** This build's version, as reported to peers and in the API. */
export const VERSION = "0.1.0";
