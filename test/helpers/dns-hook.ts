// A DNS hook script for Gatehouse's exec provider, as docs/dns-providers.md describes the contract:
// nsupdate against a test bind9 with the given TSIG key file, logging each call's arguments and
// environment to `logFile`.
import type { Bind9 } from './bind9.js';

/** The documented contract's example script (docs/dns-providers.md), pointed at this bind9 with `keyFile`. */
export function nsupdateHook(bind: Bind9, keyFile: string, logFile: string): string {
  return `#!/bin/sh
# Gatehouse DNS hook: $1 = present|cleanup, $2 = _acme-challenge.<name>. (trailing dot), $3 = TXT value.
set -eu
case "$1" in
  present) change="update add $2 60 TXT \\"$3\\"" ;;
  cleanup) change="update delete $2 TXT \\"$3\\"" ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
echo "$1|$2|$3|$GATEHOUSE_DNS_ACTION|$GATEHOUSE_DNS_NAME|$GATEHOUSE_DNS_FQDN|$GATEHOUSE_DNS_VALUE" >> "${logFile}"
printf 'server 127.0.0.1 %s\\nzone test.example\\n%s\\nsend\\n' ${bind.port} "$change" | nsupdate -k "${keyFile}"
`;
}

