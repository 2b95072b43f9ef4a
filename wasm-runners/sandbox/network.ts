/**
 * wasi:sockets and wasi:http for a job: present, so that components built
 * for `wasi:cli/command` instantiate, and refusing everything. No socket can
 * be created and no name resolved ("access-denied"), and no HTTP request is
 * sent ("HTTP-request-denied"). The resource classes are the shim's; no
 * instance of a socket can ever exist.
 */
import { httpTypes, ipNameLookup, tcp, udp } from "./shim.ts";

const denied = (): never => {
  throw "access-denied";
};

class Network {}
const theNetwork = new Network();

export function jobNetwork() {
  return {
    "wasi:sockets/network": { Network, networkErrorCode: () => undefined },
    "wasi:sockets/instance-network": { instanceNetwork: () => theNetwork },
    "wasi:sockets/ip-name-lookup": { ...ipNameLookup, resolveAddresses: denied },
    "wasi:sockets/tcp": tcp,
    "wasi:sockets/tcp-create-socket": { createTcpSocket: denied },
    "wasi:sockets/udp": udp,
    "wasi:sockets/udp-create-socket": { createUdpSocket: denied },
    "wasi:http/types": httpTypes,
    "wasi:http/outgoing-handler": {
      handle: (): never => {
        throw { tag: "HTTP-request-denied" };
      },
    },
  };
}
