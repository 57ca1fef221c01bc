// RFC 2136 dynamic update signed with TSIG (RFC 8945): what BIND, Knot, PowerDNS and Technitium
// take. The key should be allowed TXT records only (docs/dns-providers.md shows the update-policy);
// every refusal becomes a sentence naming the server, the key and the record.
import { randomInt } from 'node:crypto';
import type { DnsProvider } from '../../../../../shared/acme.js';
import { bounded, DnsProviderError } from './errors.js';
import type { DnsChallengeProvider, DnsProviderContext, TxtRecord } from './provider.js';
import { exchange, parseServer, type ServerAddress } from './transport.js';
import { decodeTsigSecret, signMessage, verifyAnswer, withTsig, type TsigKey } from './tsig.js';
import { CLASS, decodeMessage, encodeMessage, encodeRecord, OPCODE, RCODE_NAMES, txtData, TYPE, type ParsedMessage } from './wire.js';

type Rfc2136Settings = Extract<DnsProvider, { kind: 'rfc2136' }>;

/** TTL of the challenge record, s: short, so a retry with a new value is not hidden by caches. */
const RECORD_TTL_S = 60;

export function rfc2136Provider(settings: Rfc2136Settings, context: DnsProviderContext): DnsChallengeProvider {
  const server = parseServer(settings.server);
  const key = (): TsigKey => {
    const secret = context.credentials === null ? null : decodeTsigSecret(context.credentials);
    if (secret === null) {
      throw new DnsProviderError(
        'credentials_rejected',
        `The TSIG secret stored for the key ${settings.keyName} is ${context.credentials === null ? 'missing' : 'not base64 text'}.`,
        `Copy the secret "…" from the server's key "${settings.keyName}" { … } block into the provider's credentials.`,
      );
    }
    return { name: settings.keyName, algorithm: settings.algorithm, secret };
  };
  const address = (): ServerAddress => {
    if (!server) throw new DnsProviderError('internal', `"${settings.server}" is not a name server address.`, 'Enter it as 10.33.0.2, ns1.example.com or ns1.example.com:53.');
    return server;
  };

  async function send(message: Buffer, what: string): Promise<{ raw: Buffer; parsed: ParsedMessage }> {
    let raw: Buffer;
    try {
      raw = await exchange(address(), message);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') {
        throw new DnsProviderError('dns_provider_unreachable', `The name server ${settings.server} could not be found in DNS from this machine.`, 'Enter its IP address, or a name this machine resolves.', (error as Error).message);
      }
      throw new DnsProviderError(
        'dns_provider_unreachable',
        `The name server ${settings.server} did not answer ${what}.`,
        'Check that it is running and that this machine may reach it on port 53 (UDP and TCP).',
        (error as Error).message,
      );
    }
    try {
      return { raw, parsed: decodeMessage(raw) };
    } catch (error) {
      throw unreadable(error, what);
    }
  }

  /** Any answer that cannot be parsed (the message, or its TSIG record) is one sentence, the parser's words in details. */
  function unreadable(error: unknown, what: string): DnsProviderError {
    return new DnsProviderError(
      'internal',
      `The name server ${settings.server} sent an answer Gatehouse could not read to ${what}.`,
      `Check that ${settings.server} is your name server and not another service on that port; its log may say why the answer is malformed.`,
      bounded((error as Error).message),
    );
  }

  /** The zone holding `fqdn`: the owner of the SOA the server returns for it (what nsupdate does). */
  async function findZone(fqdn: string): Promise<string> {
    if (settings.zone) return settings.zone.replace(/\.$/, '');
    const query = encodeMessage({ id: randomInt(65536), opcode: OPCODE.QUERY, response: false, truncated: false, rcode: 0, questions: [{ name: fqdn, type: TYPE.SOA, class: CLASS.IN }], answers: [], authority: [], additional: [] });
    const { parsed } = await send(query, `the question which zone holds ${fqdn}`);
    const soa = [...parsed.answers, ...parsed.authority].find((record) => record.type === TYPE.SOA);
    if ((parsed.rcode !== 0 && parsed.rcode !== 3) || !soa) {
      throw new DnsProviderError(
        'name_rejected',
        `The name server ${settings.server} does not serve a zone holding ${fqdn} (it answered ${RCODE_NAMES[parsed.rcode] ?? parsed.rcode}).`,
        'Enter the zone in the provider settings, or point it at the primary name server of that zone.',
      );
    }
    return soa.name;
  }

  async function update(record: TxtRecord, action: 'add' | 'delete'): Promise<void> {
    const tsig = key();
    const zone = await findZone(record.fqdn);
    const change = action === 'add'
      ? { name: record.fqdn, type: TYPE.TXT, class: CLASS.IN, ttl: RECORD_TTL_S, data: txtData(record.value) }
      // Class NONE deletes this one value only (RFC 2136 §2.5.4): other TXT records of the name stay.
      : { name: record.fqdn, type: TYPE.TXT, class: CLASS.NONE, ttl: 0, data: txtData(record.value) };
    const body = encodeMessage({ id: randomInt(65536), opcode: OPCODE.UPDATE, response: false, truncated: false, rcode: 0, questions: [{ name: zone, type: TYPE.SOA, class: CLASS.IN }], answers: [], authority: [change], additional: [] });
    const signed = signMessage(body, tsig);
    const what = `the update of ${record.fqdn}`;
    const { raw, parsed } = await send(withTsig(body, signed.record, encodeRecord), what);
    let verdict: ReturnType<typeof verifyAnswer>;
    try {
      verdict = verifyAnswer(raw, parsed, tsig, signed.mac);
    } catch (error) {
      throw unreadable(error, what);
    }
    const rcode = RCODE_NAMES[parsed.rcode] ?? String(parsed.rcode);
    const details = bounded(`${action} ${record.fqdn} TXT in zone ${zone}: rcode ${rcode}${verdict.error ? `, TSIG ${verdict.error}` : ''}`);
    if (verdict.error || (parsed.rcode === 9 && !verdict.signed)) {
      const why = verdict.error === 'BADTIME'
        ? "this machine's clock and the server's differ by more than five minutes"
        : verdict.error === 'BADKEY'
          ? `it does not know a key named ${settings.keyName} with ${settings.algorithm}`
          : 'the secret does not match the one it holds';
      throw new DnsProviderError(
        'credentials_rejected',
        `The name server ${settings.server} rejected the TSIG key ${settings.keyName}: ${why}.`,
        verdict.error === 'BADTIME' ? 'Set both clocks right (NTP).' : `Copy the key's name, algorithm and secret exactly from the server's key "${settings.keyName}" block.`,
        details,
      );
    }
    if (parsed.rcode === 5) {
      throw new DnsProviderError(
        'credentials_rejected',
        `The name server ${settings.server} refused the update: the TSIG key ${settings.keyName} may not change ${record.fqdn}.`,
        `Allow the key TXT records in the zone ${zone}, e.g. in BIND: update-policy { grant ${settings.keyName} zonesub TXT; };`,
        details,
      );
    }
    if (parsed.rcode === 9 || parsed.rcode === 10) {
      throw new DnsProviderError(
        'name_rejected',
        `The name server ${settings.server} does not take updates for ${record.fqdn} in the zone ${zone}.`,
        'Point the provider at the primary name server of that zone, or correct the zone setting.',
        details,
      );
    }
    if (parsed.rcode !== 0) {
      throw new DnsProviderError('internal', `The name server ${settings.server} could not ${action} the TXT record ${record.fqdn} (it answered ${rcode}).`, "Look at the name server's log for the reason.", details);
    }
    if (!verdict.signed) {
      throw new DnsProviderError(
        'credentials_rejected',
        `The name server ${settings.server} answered the update without a valid TSIG signature, so Gatehouse cannot trust it.`,
        'Check that the address is your name server and that its key matches the one given here.',
        details,
      );
    }
  }

  return {
    present: (record) => update(record, 'add'),
    cleanup: (record) => update(record, 'delete'),
    lookupName: (record) => record.fqdn,
  };
}
