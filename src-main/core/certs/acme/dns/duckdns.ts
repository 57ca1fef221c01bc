// DuckDNS: one TXT value per subdomain of duckdns.org, set and cleared with GET /update, answered
// "OK" or "KO". It answers that TXT for every name under the subdomain, so the record's own name
// does not matter, and a wildcard and its apex cannot be validated with two values at once.
import type { DnsProvider } from '../../../../../shared/acme.js';
import { DnsProviderError } from './errors.js';
import { answerDetails, callApi, type ApiCall } from './http-api.js';
import type { DnsChallengeProvider, DnsProviderContext, TxtRecord } from './provider.js';

type DuckDnsSettings = Extract<DnsProvider, { kind: 'duckdns' }>;

/** "_acme-challenge.www.myhome.duckdns.org" → "myhome"; null for names outside duckdns.org. */
export function duckDnsSubdomain(name: string): string | null {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length < 3 || labels.at(-1) !== 'org' || labels.at(-2) !== 'duckdns') return null;
  return labels.at(-3)!;
}

export function duckDnsProvider(settings: DuckDnsSettings, context: DnsProviderContext): DnsChallengeProvider {
  const base = settings.apiUrl.replace(/\/+$/, '');
  const token = context.credentials;

  async function update(record: TxtRecord, clear: boolean): Promise<void> {
    const subdomain = duckDnsSubdomain(record.name);
    if (!subdomain) {
      throw new DnsProviderError('name_rejected', `DuckDNS serves only names under duckdns.org, and ${record.name} is not one.`, 'Use another DNS provider for this name, or a name such as myhome.duckdns.org.');
    }
    if (!token) throw new DnsProviderError('credentials_rejected', 'No DuckDNS token is stored for this provider.', 'Enter the token shown at the top of your duckdns.org page.');
    const query = new URLSearchParams({ domains: subdomain, token, txt: clear ? '' : record.value, ...(clear ? { clear: 'true' } : {}) });
    const call: ApiCall = { who: `DuckDNS (${base})`, url: `${base}/update?${query.toString()}`, secrets: [token, encodeURIComponent(token)] };
    const answer = await callApi(call);
    const said = answer.text.trim().split('\n')[0]!.trim();
    if (answer.status === 200 && said === 'OK') return;
    throw new DnsProviderError(
      said === 'KO' ? 'credentials_rejected' : 'internal',
      said === 'KO'
        ? `DuckDNS refused the update of ${subdomain}.duckdns.org: the token is wrong or that subdomain is not on its account.`
        : `DuckDNS answered the update of ${subdomain}.duckdns.org with HTTP ${answer.status} instead of OK.`,
      said === 'KO' ? 'Copy the token from the top of your duckdns.org page, and check that the subdomain is listed there.' : 'Try again in a minute.',
      answerDetails(call, answer),
    );
  }

  // One value per subdomain: an apex and its wildcard (or two names under it) must take turns.
  return { present: (record) => update(record, false), cleanup: (record) => update(record, true), lookupName: (record) => record.fqdn, oneRecordAtATime: true };
}
