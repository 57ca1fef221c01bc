// This machine's own addresses and the subnets its interfaces sit on (address + netmask), as
// lookup structures for "is this client on this machine's own network?". Built from
// os.networkInterfaces() once, and rebuilt only when the interfaces changed: they are read again
// at most every REREAD_MS, and only when someone asks (an error page, a route open to this network
// only). A question is one binary search (access/ip-ranges.ts); node's BlockList took ~6 µs.
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { RangeTable } from '../access/ip-ranges.js';

/** How stale the interface list may get before the next question reads it again. */
const REREAD_MS = 5000;

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** An address without an IPv6 zone ("fe80::1%eth0") or an IPv4-mapped prefix, as BlockList takes it. */
function plainAddress(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  return bare.startsWith('::ffff:') && isIPv4(bare.slice(7)) ? bare.slice(7) : bare;
}

function family(address: string): 'ipv4' | 'ipv6' | null {
  return isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
}

interface Snapshot {
  key: string;
  addresses: RangeTable;
  subnets: RangeTable;
}

function snapshotOf(interfaces: Interfaces): Snapshot {
  // Loopback is this machine whatever the interface list says (a container may list no `lo`).
  const addresses = ['127.0.0.0/8', '::1'];
  const subnets = ['127.0.0.0/8', '::1'];
  const keys: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      const address = plainAddress(info.address);
      if (!family(address)) continue;
      addresses.push(address);
      const prefix = Number(info.cidr?.split('/')[1]);
      subnets.push(Number.isInteger(prefix) ? `${address}/${prefix}` : address);
      keys.push(info.cidr ?? address);
    }
  }
  return { key: keys.sort().join(' '), addresses: new RangeTable(addresses), subnets: new RangeTable(subnets) };
}

export class OwnNetworks {
  private snapshot: Snapshot;
  private readAt: number;

  /** `read` lists the interfaces (tests give their own); `clock` is in ms. */
  constructor(
    private readonly read: () => Interfaces = networkInterfaces,
    private readonly clock: () => number = Date.now,
  ) {
    this.snapshot = snapshotOf(read());
    this.readAt = clock();
  }

  /** The address is loopback or one of this machine's own. */
  isThisMachine(address: string): boolean {
    return this.check(address, 'addresses');
  }

  /** The address is loopback or inside a subnet one of this machine's interfaces is on. */
  isOwnNetwork(address: string): boolean {
    return this.check(address, 'subnets');
  }

  private check(address: string, which: 'addresses' | 'subnets'): boolean {
    this.refresh();
    // The table reads zones and IPv4-mapped IPv6 as plainAddress does, and refuses non-addresses.
    return this.snapshot[which].lookup(address) !== -1;
  }

  private refresh(): void {
    const now = this.clock();
    if (now - this.readAt < REREAD_MS) return;
    this.readAt = now;
    const next = snapshotOf(this.read());
    if (next.key !== this.snapshot.key) this.snapshot = next;
  }
}
