// The dev fake's pre-flight: the checks an order needs, judged from a small model of public DNS
// (which names have an address), CAA (which CAs a zone allows) and the DNS provider's test; and the
// rate-limit failure as the real service words it. Never part of the shipped bundle.
import type { AcmeChallenge, AcmeProblem, PreflightCheck } from '../../shared/acme.js';

/** The registrable domain the fake treats as a name's zone: its last two labels. */
function zoneOf(name: string): string {
  return name.replace(/^\*\./, '').split('.').slice(-2).join('.');
}

function lanOnly(name: string): boolean {
  return /\.(home\.arpa|local|lan|internal)$/.test(name.replace(/^\*\./, ''));
}

export interface PreflightModel {
  /** Names with an address in public DNS. */
  publicNames: ReadonlySet<string>;
  /** Zone → the CAs its CAA records allow; a zone not here allows every CA. */
  caa: ReadonlyMap<string, string[]>;
  /** The CA's CAA names ("letsencrypt.org") and what people call it. */
  identities: string[];
  caName: string;
  /** The DNS provider's test (DNS challenge); null when the provider is gone, undefined with HTTP. */
  providerTest: (() => PreflightCheck) | null | undefined;
}

export function preflightChecks(model: PreflightModel, names: string[], challenge: AcmeChallenge): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const check = (fields: Omit<PreflightCheck, 'fix' | 'details' | 'durationMs'> & Partial<Pick<PreflightCheck, 'fix' | 'details' | 'durationMs'>>) =>
    checks.push({ fix: null, details: null, durationMs: 40, ...fields });

  if (model.providerTest === null) check({ id: 'dns-credentials', label: 'The DNS provider exists', state: 'fail', message: 'The chosen DNS provider is gone.', fix: 'Choose a DNS provider, or add one on the Certificates page.' });
  else if (model.providerTest) checks.push(model.providerTest());
  for (const name of names) {
    const bare = name.replace(/^\*\./, '');
    const wildcard = name.startsWith('*.');
    if (wildcard && challenge === 'http-01') {
      check({ id: `challenge:${name}`, label: `${name} can be validated over HTTP`, state: 'fail', message: 'A wildcard name can only be validated with the DNS challenge.', fix: 'Choose the DNS challenge and a DNS provider.' });
      continue;
    }
    const visible = model.publicNames.has(bare);
    if (lanOnly(bare)) {
      check({ id: `public-dns:${name}`, label: `${name} is a public name`, state: 'fail', message: `${bare} is a name for your LAN only; no public CA issues certificates for it.`, fix: "Use a domain you own (such as home.example.com), or use Gatehouse's local CA for this route." });
    } else if (challenge === 'http-01' && !visible) {
      check({ id: `public-dns:${name}`, label: `${name} resolves in public DNS`, state: 'fail', message: `${bare} has no address in public DNS, so ${model.caName} cannot reach this machine to check it.`, fix: 'Add an A record pointing to your public address, or choose the DNS challenge.', details: `;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN\n;; QUESTION SECTION:\n;${bare}.\t\tIN\tA` });
    } else if (!visible && !wildcard) {
      check({ id: `public-dns:${name}`, label: `${name} resolves in public DNS`, state: 'warn', message: `${bare} has no public address: fine with the DNS challenge, but only devices on your LAN will reach it.`, fix: 'If devices outside your LAN should reach it too, add a public A record for it.' });
    } else {
      check({ id: `public-dns:${name}`, label: `${name} resolves in public DNS`, state: 'pass', message: `${bare} resolves to 203.0.113.7 in public DNS.` });
    }
    if (challenge === 'http-01' && visible && !lanOnly(bare)) {
      check({ id: `http-probe:${name}`, label: `Port 80 for ${name} reaches Gatehouse`, state: 'pass', message: `A request to http://${bare}/.well-known/acme-challenge/… came back to this Gatehouse.` });
    }
  }
  const zones = [...new Set(names.filter((name) => !lanOnly(name)).map(zoneOf))];
  for (const zone of zones) {
    const allowed = model.caa.get(zone);
    if (!allowed) check({ id: `caa:${zone}`, label: `CAA for ${zone} allows ${model.caName}`, state: 'pass', message: `${zone} has no CAA record, so any CA may issue for it.` });
    else if (allowed.some((issuer) => model.identities.includes(issuer))) check({ id: `caa:${zone}`, label: `CAA for ${zone} allows ${model.caName}`, state: 'pass', message: `${zone}'s CAA record allows ${allowed.join(', ')}.` });
    else {
      check({
        id: `caa:${zone}`,
        label: `CAA for ${zone} allows ${model.caName}`,
        state: 'fail',
        message: `${zone}'s CAA record allows only ${allowed.join(', ')}, so ${model.caName} will refuse to issue.`,
        fix: `Add a CAA record: ${zone}. CAA 0 issue "${model.identities[0]}" (and issuewild for wildcards), at your DNS host.`,
        details: allowed.map((issuer) => `${zone}.\t3600\tIN\tCAA\t0 issue "${issuer}"`).join('\n'),
      });
    }
  }
  if (challenge === 'dns-01') {
    check({ id: 'split-dns', label: 'Public name servers answer for the zone', state: 'skipped', message: 'Not checked: the DNS provider test above already saw the record at the zone\'s name servers.' });
  }
  return checks;
}

/** A rate-limit refusal as the real service words it, with Let's Encrypt's problem document behind "details". */
export function rateLimitProblem(name: string, retryAt: Date): AcmeProblem {
  const when = `${retryAt.getUTCDate()} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][retryAt.getUTCMonth()]} ${String(retryAt.getUTCHours()).padStart(2, '0')}:${String(retryAt.getUTCMinutes()).padStart(2, '0')} UTC`;
  return {
    code: 'rate_limited',
    message: `Let's Encrypt refused a new certificate for ${name}: 5 certificates for exactly these names were issued in the last 7 days.`,
    fix: `Wait until ${when}, when the limit lifts; Gatehouse tries again then by itself, and the current certificate keeps working meanwhile.`,
    details: JSON.stringify(
      {
        type: 'urn:ietf:params:acme:error:rateLimited',
        detail: `too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after ${retryAt.toISOString().replace('T', ' ').replace('.000Z', ' UTC')}: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames`,
        status: 429,
      },
      null,
      2,
    ),
    retryAt: retryAt.toISOString(),
  };
}
