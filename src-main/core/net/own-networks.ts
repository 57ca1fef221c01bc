// This machine's own addresses and the subnets its interfaces sit on (address + netmask), as
// lookup structures for "is this client on this machine's own network?". Built from
// os.networkInterfaces() once, and rebuilt only when the interfaces changed: they are read again
// at most every REREAD_MS, and only when someone asks (an error page, which is rare).
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

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
  addresses: BlockList;
  subnets: BlockList;
}

function snapshotOf(interfaces: Interfaces): Snapshot {
  const addresses = new BlockList();
  const subnets = new BlockList();
  // Loopback is this machine whatever the interface list says (a container may list no `lo`).
  addresses.addSubnet('127.0.0.0', 8, 'ipv4');
  addresses.addAddress('::1', 'ipv6');
  subnets.addSubnet('127.0.0.0', 8, 'ipv4');
  subnets.addAddress('::1', 'ipv6');
  const keys: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      const address = plainAddress(info.address);
      const type = family(address);
      if (!type) continue;
      addresses.addAddress(address, type);
      const prefix = Number(info.cidr?.split('/')[1]);
      if (Number.isInteger(prefix)) subnets.addSubnet(address, prefix, type);
      else subnets.addAddress(address, type);
      keys.push(info.cidr ?? address);
    }
  }
  return { key: keys.sort().join(' '), addresses, subnets };
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
    const plain = plainAddress(address);
    const type = family(plain);
    if (!type) return false;
    this.refresh();
    return this.snapshot[which].check(plain, type);
  }

  private refresh(): void {
    const now = this.clock();
    if (now - this.readAt < REREAD_MS) return;
    this.readAt = now;
    const next = snapshotOf(this.read());
    if (next.key !== this.snapshot.key) this.snapshot = next;
  }
}
