// Cloudflare's API v4 with an API token (Bearer): find the zone by walking up the name's labels,
// create the TXT record, and on cleanup delete only the record with this value. Every answer is the
// documented envelope { success, errors: [{ code, message }], result }.
import type { DnsProvider } from '../../../../../shared/acme.js';
import { DnsProviderError, parentNames, redact } from './errors.js';
import { answerDetails, callApi, type ApiAnswer, type ApiCall } from './http-api.js';
import type { DnsChallengeProvider, DnsProviderContext, TxtRecord } from './provider.js';

type CloudflareSettings = Extract<DnsProvider, { kind: 'cloudflare' }>;

interface Envelope<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
}

/** TTL of the challenge record, s (Cloudflare's lowest besides "auto"). */
const RECORD_TTL_S = 60;

export function cloudflareProvider(settings: CloudflareSettings, context: DnsProviderContext): DnsChallengeProvider {
  const base = settings.apiUrl.replace(/\/+$/, '');
  const token = context.credentials;
  const zones = new Map<string, { id: string; name: string }>();

  async function api<T>(method: string, path: string, body: unknown, zoneName: string): Promise<T> {
    if (!token) throw new DnsProviderError('credentials_rejected', 'No Cloudflare API token is stored for this provider.', 'Enter an API token with Zone › DNS › Edit in the provider settings.');
    const call: ApiCall = { who: `Cloudflare (${base})`, url: `${base}${path}`, method, headers: { authorization: `Bearer ${token}` }, body, secrets: [token] };
    const answer = await callApi(call);
    const envelope = (answer.json ?? {}) as Envelope<T>;
    if (answer.status >= 200 && answer.status < 300 && envelope.success !== false && envelope.result !== undefined) return envelope.result;
    throw failure(call, answer, envelope, zoneName);
  }

  function failure(call: ApiCall, answer: ApiAnswer, envelope: Envelope<unknown>, zoneName: string): DnsProviderError {
    const said = redact((envelope.errors ?? []).map((error) => `${error.message ?? 'error'}${error.code ? ` (${error.code})` : ''}`).join('; ') || `HTTP ${answer.status}`, token);
    const details = answerDetails(call, answer);
    if (answer.status === 401 || answer.status === 403 || (envelope.errors ?? []).some((error) => error.code === 10000 || error.code === 9109)) {
      return new DnsProviderError(
        'credentials_rejected',
        `Cloudflare refused the API token: it needs Zone › DNS › Edit on ${zoneName} (Cloudflare said: ${said}).`,
        `Create a token at dash.cloudflare.com › My Profile › API Tokens with Zone › DNS › Edit and Zone › Zone › Read for ${zoneName}, and enter it here.`,
        details,
      );
    }
    return new DnsProviderError('internal', `Cloudflare did not take the change for ${zoneName}: ${said}.`, 'Try again; if it keeps failing, the details hold what Cloudflare answered.', details);
  }

  async function zoneOf(fqdn: string): Promise<{ id: string; name: string }> {
    if (settings.zoneId) return { id: settings.zoneId, name: fqdn.replace(/^_acme-challenge\./, '') };
    // From the validated name up: a zone is not kept at the _acme-challenge label itself.
    const candidates = parentNames(fqdn.replace(/^_acme-challenge\./, '')).filter((name) => name.includes('.'));
    for (const name of candidates) {
      const known = zones.get(name);
      if (known) return known;
      const found = await api<{ id: string; name: string }[]>('GET', `/zones?name=${encodeURIComponent(name)}`, undefined, name);
      if (found.length > 0 && found[0]!.id) {
        const zone = { id: found[0]!.id, name: found[0]!.name ?? name };
        zones.set(name, zone);
        return zone;
      }
    }
    const apex = fqdn.replace(/^_acme-challenge\./, '');
    throw new DnsProviderError(
      'name_rejected',
      `Cloudflare has no zone holding ${apex} that this API token can see.`,
      `Add the domain to Cloudflare, or give the token Zone › Zone › Read on it (or enter the zone id in the provider settings).`,
    );
  }

  async function present(record: TxtRecord): Promise<void> {
    const zone = await zoneOf(record.fqdn);
    await api('POST', `/zones/${encodeURIComponent(zone.id)}/dns_records`, { type: 'TXT', name: record.fqdn, content: record.value, ttl: RECORD_TTL_S }, zone.name);
  }

  async function cleanup(record: TxtRecord): Promise<void> {
    const zone = await zoneOf(record.fqdn);
    const query = `type=TXT&name=${encodeURIComponent(record.fqdn)}&content=${encodeURIComponent(record.value)}`;
    const found = await api<{ id: string; content?: string }[]>('GET', `/zones/${encodeURIComponent(zone.id)}/dns_records?${query}`, undefined, zone.name);
    // Cloudflare may keep TXT content quoted; only this value's record goes.
    for (const entry of found.filter((item) => item.content === undefined || item.content.replace(/^"|"$/g, '') === record.value)) {
      await api('DELETE', `/zones/${encodeURIComponent(zone.id)}/dns_records/${encodeURIComponent(entry.id)}`, undefined, zone.name);
    }
  }

  return { present, cleanup, lookupName: (record) => record.fqdn };
}
