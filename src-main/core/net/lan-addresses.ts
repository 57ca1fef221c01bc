// This machine's addresses that other devices on the LAN can use to reach the proxy, for the
// dashboard's "point your DNS (or hosts file) here". Read from the OS each time the status is built:
// os.networkInterfaces() is a cheap system call, and a laptop that changes networks is then never
// shown a stale address.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Non-loopback IPv4 addresses first, then IPv6 ones except link-local (fe80::/10, useless without a zone). */
export function lanAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') v4.add(info.address);
      else if (!/^fe[89ab]/i.test(info.address)) v6.add(info.address);
    }
  }
  return [...v4, ...v6];
}
