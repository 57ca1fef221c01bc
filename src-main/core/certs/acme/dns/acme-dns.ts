// acme-dns (joohoi/acme-dns): _acme-challenge.<name> is a CNAME to the registration's `fulldomain`,
// and the value is set with POST /update. The server keeps the two latest values and has no delete,
// so cleanup leaves them: the next order replaces them.
import type { DnsProvider } from '../../../../../shared/acme.js';
import { DnsProviderError } from './errors.js';
import { answerDetails, callApi, type ApiCall } from './http-api.js';
import type { DnsChallengeProvider, DnsProviderContext } from './provider.js';

type AcmeDnsSettings = Extract<DnsProvider, { kind: 'acme-dns' }>;

export function acmeDnsProvider(settings: AcmeDnsSettings, context: DnsProviderContext): DnsChallengeProvider {
  const base = settings.serverUrl.replace(/\/+$/, '');
  const password = context.credentials;
  const who = `The acme-dns server at ${base}`;

  return {
    async present(record) {
      if (!password) throw new DnsProviderError('credentials_rejected', 'No acme-dns password is stored for this provider.', 'Enter the password acme-dns gave at registration.');
      const call: ApiCall = {
        who,
        url: `${base}/update`,
        method: 'POST',
        headers: { 'X-Api-User': settings.username, 'X-Api-Key': password },
        body: { subdomain: settings.subdomain, txt: record.value },
        secrets: [password],
      };
      const answer = await callApi(call);
      if (answer.status === 200) return;
      const said = (answer.json as { error?: string } | undefined)?.error ?? `HTTP ${answer.status}`;
      const details = answerDetails(call, answer);
      if (answer.status === 401 || said === 'forbidden' || said === 'bad_subdomain') {
        throw new DnsProviderError(
          'credentials_rejected',
          `${who} refused the username ${settings.username} and its password for the subdomain ${settings.subdomain} (${said}).`,
          'Enter the username, password and subdomain exactly as the registration (POST /register) returned them.',
          details,
        );
      }
      if (said === 'bad_txt') {
        throw new DnsProviderError('internal', `${who} refused the TXT value (bad_txt): it takes only 43-character challenge values.`, null, details);
      }
      throw new DnsProviderError('internal', `${who} did not take the TXT value (${said}).`, "Look at the acme-dns server's log for the reason.", details);
    },
    async cleanup() {
      // acme-dns has no delete: it keeps the two latest values, and the next order replaces them.
    },
    lookupName: () => settings.fulldomain.replace(/\.$/, ''),
  };
}
