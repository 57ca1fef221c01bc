// What each of Nginx Proxy Manager's objects becomes in Gatehouse: a preview item (maps yes/partly/no,
// in words, with notes on what does not carry over and why) and, for what can be imported, the plan
// the apply step hands to the gateway's own handlers (so every validation of a hand-made route,
// list or certificate applies). Pure: the NPM data, what Gatehouse holds now, and the clock in.
import { ApiError } from '../../../shared/api.js';
import { AccessEntrySchema, UserNameSchema, type AccessEntry, type AccessList } from '../../../shared/access.js';
import type { NpmImportItem, NpmImportPreview } from '../../../shared/insight.js';
import { hostnameProblem, normalizeHostname, RouteInputSchema, type Route, type RouteInput } from '../../../shared/model.js';
import type { StreamInput } from '../../../shared/streams.js';
import { parseRedirectTarget } from '../../../shared/redirect.js';
import { namesCover, readableDate } from '../certs/certificate-facts.js';
import { checkImport } from '../certs/custom-import.js';
import { routeLabel } from '../gateway/route-edits.js';
import type { NpmAccessList, NpmCertificate, NpmCertificateFiles, NpmData, NpmProxyHost, NpmRedirectionHost, NpmStream } from './npm-import-database.js';

/** What Gatehouse holds now, as far as clashes and reuse go. */
export interface GatehouseNow {
  routes: readonly Route[];
  lists: readonly AccessList[];
  users: readonly string[];
  customCertificates: readonly { id: string; label: string; fingerprintSha256: string }[];
  streams: readonly { title: string; protocol: string; listenPort: number; listenPortEnd: number | null }[];
}

/** A reference to something a host uses: imported with it (key), or already in Gatehouse (id). */
export type Needed = { key: string } | { existingId: string };

export type NpmPlan =
  | { kind: 'certificate'; key: string; input: { label: string; certificatePem: string; privateKeyPem: string } }
  | { kind: 'access-list'; key: string; input: { name: string; entries: AccessEntry[] }; users: { name: string; password: string }[] }
  | { kind: 'proxy-host'; key: string; route: RouteInput & { upstreams: { url: string }[] }; certificate: Needed | null; list: Needed | null; signInUsers: string[] | null }
  | { kind: 'stream'; key: string; streams: StreamInput[] };

export interface NpmImportPlan {
  preview: NpmImportPreview;
  plans: Map<string, NpmPlan>;
}

/** A list reference or certificate, with what a host that uses it gets. */
interface Resolved {
  item: NpmImportItem;
  ref: Needed | null;
  /** A certificate's DNS names; an access list's user names (the ones Gatehouse takes). */
  names: string[];
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const HASHED = /^(?:\$(?:apr1|2[abxy]?|1|5|6|argon2(?:id|i|d)?)\$|\{SHA\})/;
/** addAccessUser's shortest password (shared/api.ts). */
export const MIN_USER_PASSWORD = 10;

export function planNpmImport(data: NpmData, here: GatehouseNow, now: Date, filesOf: (cert: NpmCertificate) => NpmCertificateFiles | null): NpmImportPlan {
  const plans = new Map<string, NpmPlan>();
  const certificates = new Map<number, Resolved>();
  const lists = new Map<number, Resolved>();
  for (const cert of data.certificates) certificates.set(cert.id, certificateItem(cert, filesOf(cert), here, now, plans));
  for (const list of data.accessLists) lists.set(list.id, accessListItem(list, here, plans));
  const hosts = data.proxyHosts.map((host) => proxyHostItem(host, here, certificates, lists, plans));
  const redirections = data.redirectionHosts.map((host) => redirectionItem(host, here, certificates, plans));
  const streams = data.streams.map((stream) => streamItem(stream, here, plans));
  const items = [...hosts, ...redirections, ...[...lists.values()].map((r) => r.item), ...[...certificates.values()].map((r) => r.item), ...streams];
  return { preview: { folder: data.folder, items }, plans };
}

function item(kind: NpmImportItem['kind'], npmId: number, label: string): NpmImportItem {
  return { key: `${kind}:${npmId}`, kind, npmId, label, maps: 'yes', becomes: null, notes: [], needs: [] };
}
function refuse(entry: NpmImportItem, ...notes: string[]): NpmImportItem {
  return { ...entry, maps: 'no', becomes: null, notes: [...entry.notes, ...notes], needs: [] };
}
const list = (names: readonly string[]) => names.join(', ');
const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

function issuesOf(error: unknown): string[] {
  if (error instanceof ApiError) return error.details.issues?.map((issue) => issue.message) ?? [error.message];
  return [(error as Error).message];
}

// ---------------------------------------------------------------------------------------------

function certificateItem(cert: NpmCertificate, files: NpmCertificateFiles | null, here: GatehouseNow, now: Date, plans: Map<string, NpmPlan>): Resolved {
  const letsEncrypt = cert.provider === 'letsencrypt';
  const label = cert.niceName || list(cert.domainNames) || `certificate ${cert.id}`;
  const entry = item('certificate', cert.id, label);
  if (!files) {
    return {
      item: refuse(
        entry,
        letsEncrypt
          ? `NPM keeps Let's Encrypt certificates in its /etc/letsencrypt volume, which is not in this folder. To bring this one, copy it too (docker cp <npm-container>:/etc/letsencrypt <this folder>/letsencrypt) and preview again; or let Gatehouse get a new one: choose HTTPS "Let's Encrypt" on the route.`
          : `its files (custom_ssl/npm-${cert.id}/fullchain.pem and privkey.pem) are not in this folder: copy NPM's whole data folder, including custom_ssl, and preview again.`,
      ),
      ref: null,
      names: [],
    };
  }
  let checked;
  try {
    checked = checkImport(files, now);
  } catch (error) {
    const issues = issuesOf(error);
    const notes = issues.map((issue) => `Gatehouse cannot use it: ${issue}.`);
    if (!letsEncrypt && issues.some((issue) => /chain field/.test(issue))) {
      notes.push(`In NPM's folder the chain belongs in ${files.dir}/fullchain.pem, after the certificate: add it there and preview again.`);
    }
    return { item: refuse(entry, ...notes), ref: null, names: [] };
  }
  const existing = here.customCertificates.find((custom) => custom.fingerprintSha256 === checked.facts.fingerprintSha256);
  if (existing) {
    return { item: refuse(entry, `It is in Gatehouse already, as "${existing.label}": hosts that use it get that one.`), ref: { existingId: existing.id }, names: checked.facts.names };
  }
  const notes = [`Found in ${files.dir}.`];
  if (letsEncrypt) {
    notes.push(
      `It comes in as an imported certificate, which Gatehouse does not renew: before it expires on ${readableDate(checked.facts.notAfter)}, switch its routes to HTTPS "Let's Encrypt" in Gatehouse, which then gets and renews its own.`,
    );
  }
  plans.set(entry.key, { kind: 'certificate', key: entry.key, input: { label: label.slice(0, 80), certificatePem: files.certificatePem, privateKeyPem: files.privateKeyPem } });
  return {
    item: { ...entry, maps: 'yes', becomes: `imported certificate for ${list(checked.facts.names)}, valid until ${readableDate(checked.facts.notAfter)}`, notes },
    ref: { key: entry.key },
    names: checked.facts.names,
  };
}

// ---------------------------------------------------------------------------------------------

function accessListItem(npm: NpmAccessList, here: GatehouseNow, plans: Map<string, NpmPlan>): Resolved {
  const entry = item('access-list', npm.id, npm.name);
  const userNames = npm.users.map((user) => UserNameSchema.safeParse(user.username)).flatMap((name) => (name.success ? [name.data] : []));
  const clash = here.lists.find((existing) => existing.name.toLowerCase() === npm.name.toLowerCase());
  if (clash) return { item: refuse(entry, `Gatehouse has a list called "${clash.name}" already: hosts that use this one get that list instead. Rename one of them to import it apart.`), ref: { existingId: clash.id }, names: userNames };

  const notes: string[] = [];
  let partly = false;
  const entries: AccessEntry[] = [];
  for (const client of npm.clients) {
    const action = client.directive === 'deny' ? 'deny' : client.directive === 'allow' ? 'allow' : null;
    const ranges = client.address.toLowerCase() === 'all' ? ['0.0.0.0/0', '::/0'] : [client.address];
    const parsed = ranges.map((range) => AccessEntrySchema.safeParse({ action, range, note: 'from NPM' }));
    if (action === null || parsed.some((result) => !result.success)) {
      notes.push(`"${client.directive} ${client.address}" is left out: Gatehouse lists take IP addresses and ranges (such as 203.0.113.5 or 10.33.0.0/24), allowed or denied.`);
      partly = true;
      continue;
    }
    for (const result of parsed) if (result.success) entries.push(result.data);
  }
  const withUsers = npm.users.length > 0;
  // NPM ends its rules with "deny all": an address no rule names is refused (unless, with Satisfy
  // Any, it signs in instead). Gatehouse asks the route's exposure when no entry matched, so the
  // refusal is written out as entries; with sign-in users and Satisfy Any it is left to the sign-in.
  const coversAll = entries.some((e) => e.range === '0.0.0.0/0') && entries.some((e) => e.range === '::/0');
  if (entries.length > 0 && !coversAll && !(withUsers && npm.satisfyAny)) {
    entries.push({ action: 'deny', range: '0.0.0.0/0', note: 'everyone else (NPM: deny all)' }, { action: 'deny', range: '::/0', note: 'everyone else (NPM: deny all)' });
    notes.push('NPM refused every address its rules do not name; the list ends with "deny everyone else" to do the same.');
  }
  if (withUsers && npm.satisfyAny && npm.clients.length > 0) {
    partly = true;
    notes.push(
      'NPM let the listed addresses in without a password (Satisfy Any). In Gatehouse a list decides who may reach the route, and sign-in is asked of everyone it lets through: the addresses stay on the list, and every visitor signs in.',
    );
  }

  const users: { name: string; password: string }[] = [];
  for (const user of npm.users) {
    const name = UserNameSchema.safeParse(user.username);
    if (!name.success) {
      notes.push(`The user "${user.username}" is left out: Gatehouse user names have no spaces or colons; add the person on the Access page under another name.`);
      partly = true;
    } else if (here.users.includes(name.data)) {
      notes.push(`A Gatehouse user "${name.data}" exists already: it keeps its Gatehouse password.`);
    } else if (!user.password || HASHED.test(user.password)) {
      notes.push(`NPM holds only a hash of "${name.data}"'s password, which Gatehouse cannot turn back into the password: add the user on the Access page with a new password.`);
      partly = true;
    } else if (user.password.length < MIN_USER_PASSWORD) {
      notes.push(`"${name.data}"'s NPM password is shorter than the ${MIN_USER_PASSWORD} characters Gatehouse asks for: add the user on the Access page with a longer one.`);
      partly = true;
    } else {
      users.push({ name: name.data, password: user.password });
    }
  }
  if (withUsers && npm.passAuth) {
    notes.push('NPM passed the visitor\'s password on to the app (Pass Auth); Gatehouse keeps it and tells the app who signed in with a Remote-User header instead.');
  }
  if (users.length > 0) {
    const who = quoted(users.map((u) => u.name));
    notes.push(`${who} ${users.length === 1 ? 'comes in as a Gatehouse sign-in user' : 'come in as Gatehouse sign-in users'} with the same password (NPM kept it as typed; Gatehouse stores only an Argon2 hash of it).`);
  }

  plans.set(entry.key, { kind: 'access-list', key: entry.key, input: { name: npm.name.slice(0, 60), entries }, users });
  const signIn = withUsers ? `, with sign-in for ${npm.users.length} user${npm.users.length === 1 ? '' : 's'}` : '';
  return {
    item: { ...entry, maps: partly ? 'partly' : 'yes', becomes: `access list "${npm.name}" with ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${signIn}`, notes },
    ref: { key: entry.key },
    names: userNames,
  };
}

// ---------------------------------------------------------------------------------------------

function hostNames(names: readonly string[], notes: string[]): string[] {
  const good: string[] = [];
  for (const name of names) {
    const normal = normalizeHostname(name);
    const problem = hostnameProblem(normal);
    if (problem) notes.push(`The name "${name}" is left out: ${problem}.`);
    else if (!good.includes(normal)) good.push(normal);
  }
  return good;
}

function clashOf(names: readonly string[], routes: readonly Route[]): string | null {
  for (const route of routes) {
    const shared = names.filter((name) => route.names.includes(name));
    if (shared.length > 0) return `${quoted(shared)} ${shared.length === 1 ? 'is' : 'are'} served by the Gatehouse route "${routeLabel(route)}" already (imported before?). Remove or rename that route to import this host.`;
  }
  return null;
}

/** The certificate a host brings (and the words for its HTTPS), or null with why in `lost`. */
function certificateFor(
  host: { certificateId: number; sslForced: boolean; hstsEnabled: boolean; hstsSubdomains: boolean },
  names: readonly string[],
  certificates: Map<number, Resolved>,
  lost: string[],
  needs: string[],
): { certificate: Needed | null; tls: string } {
  let certificate: Needed | null = null;
  let tls = 'HTTP only';
  if (host.certificateId > 0) {
    const resolved = certificates.get(host.certificateId);
    const certNames = resolved?.names ?? [];
    if (!resolved || !resolved.ref) {
      lost.push(`Its certificate (NPM #${host.certificateId}${resolved ? `, ${resolved.item.label}` : ', which NPM no longer has'}) cannot come along${resolved ? ` (see that item)` : ''}, so the route starts as HTTP only${host.sslForced || host.hstsEnabled ? `, without ${[host.sslForced ? 'the redirect to HTTPS' : '', host.hstsEnabled ? 'HSTS' : ''].filter(Boolean).join(' or ')}` : ''}: choose HTTPS for it in Gatehouse (the local CA, or Let's Encrypt for a public name).`);
    } else if (!names.every((name) => namesCover(certNames, name))) {
      lost.push(`Its certificate does not cover every name (${list(names.filter((name) => !namesCover(certNames, name)))}), and Gatehouse serves a route only with one that does: the route starts as HTTP only; choose the local CA or Let's Encrypt for it.`);
    } else {
      certificate = resolved.ref;
      if ('key' in resolved.ref) needs.push(resolved.ref.key);
      tls = `HTTPS with the imported certificate${host.sslForced ? ', HTTP sent to HTTPS' : ''}${host.hstsEnabled ? ', HSTS' : ''}`;
      if (host.hstsEnabled && host.hstsSubdomains) lost.push("HSTS is sent without includeSubDomains (Gatehouse's HSTS covers the route's own names).");
    }
  }
  return { certificate, tls };
}

function proxyHostItem(host: NpmProxyHost, here: GatehouseNow, certificates: Map<number, Resolved>, lists: Map<number, Resolved>, plans: Map<string, NpmPlan>): NpmImportItem {
  const entry = item('proxy-host', host.id, list(host.domainNames) || `proxy host ${host.id}`);
  const notes: string[] = [];
  const lost: string[] = [];
  const names = hostNames(host.domainNames, lost);
  if (names.length === 0) return refuse(entry, ...lost, 'It has no host name Gatehouse can serve.');
  const clash = clashOf(names, here.routes);
  if (clash) return refuse(entry, clash);
  if (!host.forwardHost || host.forwardPort === null) return refuse(entry, 'It has no forward host and port, so there is nothing to send visitors to.');

  const scheme = host.forwardScheme === 'https' ? 'https' : 'http';
  const bracketed = host.forwardHost.includes(':') && !host.forwardHost.startsWith('[') ? `[${host.forwardHost}]` : host.forwardHost;
  const upstream = `${scheme}://${bracketed}:${host.forwardPort}`;
  if (!IPV4.test(host.forwardHost) && !host.forwardHost.includes(':') && host.forwardHost.includes('.')) {
    notes.push(`NPM reached the app by the name "${host.forwardHost}": make sure this machine resolves it to the same address (or change the upstream to that address).`);
  } else if (!IPV4.test(host.forwardHost) && !host.forwardHost.includes(':')) {
    notes.push(`NPM reached the app as "${host.forwardHost}", probably a Docker container name that only NPM's Docker network knows: if this machine cannot resolve it, change the upstream to the app's LAN address and published port.`);
  }
  if (scheme === 'https') notes.push("NPM did not check the app's own HTTPS certificate; neither will this route (\"accept the upstream's certificate\" is on).");

  const needs: string[] = [];
  const { certificate, tls } = certificateFor(host, names, certificates, lost, needs);

  let listRef: Needed | null = null;
  let signInUsers: string[] | null = null;
  if (host.accessListId > 0) {
    const resolved = lists.get(host.accessListId);
    if (!resolved || !resolved.ref) {
      lost.push(`Its access list (NPM #${host.accessListId}) no longer exists in NPM, so nothing is attached.`);
    } else {
      listRef = resolved.ref;
      if ('key' in resolved.ref) needs.push(resolved.ref.key);
      // Gatehouse keeps users globally and a route names who may sign in: the list's users.
      signInUsers = resolved.names.length > 0 ? resolved.names : null;
    }
  }

  if (host.blockExploits) notes.push("NPM's \"Block Common Exploits\" becomes Gatehouse's scanner protection, which is on for every route.");
  else notes.push("Gatehouse's scanner protection (refusing probes such as /.env and /.git) is on for every new route; turn it off on the route's Access tab if the app needs such paths.");
  if (host.cachingEnabled) lost.push('Caching of assets is not imported: Gatehouse does not cache; the app answers every request.');
  if (host.advancedConfig) lost.push("The custom Nginx configuration (Advanced tab) is not imported: Gatehouse does not run Nginx. Read it and look for the same setting on the route's page (headers, limits, access).");
  for (const location of host.locations) {
    lost.push(`The custom location "${location.path}" → ${location.target} is not imported: a Gatehouse route sends every path to its upstream; make a separate route (another name) for that app.`);
  }
  if (!host.enabled) notes.push('It was disabled in NPM, so it comes in turned off.');
  notes.push('Gatehouse routes start reachable from this network only; if visitors come from the internet, set "Who can reach it" to "anyone" on the route\'s Access tab.');

  const route = {
    names,
    upstreams: [{ url: upstream }],
    enabled: host.enabled,
    websocket: host.websocket,
    insecureUpstreamTls: scheme === 'https',
  };
  const probe = RouteInputSchema.safeParse({
    ...route,
    tls: certificate ? { mode: 'custom', certificateId: 'probe', redirectHttp: host.sslForced, hsts: host.hstsEnabled } : undefined,
    access: { lists: listRef ? ['probe'] : [], signIn: signInUsers ? { method: 'basic', users: signInUsers } : { method: 'none' } },
  });
  if (!probe.success) return refuse(entry, ...probe.error.issues.map((issue) => `Gatehouse cannot take it: ${issue.path.join('.')}: ${issue.message}.`));

  plans.set(entry.key, {
    kind: 'proxy-host',
    key: entry.key,
    route: { ...route, tls: certificate ? { mode: 'custom', certificateId: null, redirectHttp: host.sslForced, hsts: host.hstsEnabled } : undefined } as NpmPlanRoute,
    certificate,
    list: listRef,
    signInUsers,
  });
  const access = listRef ? `, access list "${lists.get(host.accessListId)!.item.label}"${signInUsers ? ' with sign-in' : ''}` : '';
  return {
    ...entry,
    maps: lost.length > 0 ? 'partly' : 'yes',
    becomes: `route ${list(names)} → ${upstream}, ${tls}${access}${host.websocket ? ', WebSocket' : ''}${host.enabled ? '' : ' (turned off)'}`,
    notes: [...lost, ...notes],
    needs,
  };
}
type NpmPlanRoute = RouteInput & { upstreams: { url: string }[] };


// ---------------------------------------------------------------------------------------------

/** NPM's status codes (it offers 300–308) as a redirect route's: the four real redirects carry over. */
const NPM_STATUS: Record<number, 301 | 302 | 307 | 308> = { 301: 301, 302: 302, 307: 307, 308: 308 };

function redirectionItem(host: NpmRedirectionHost, here: GatehouseNow, certificates: Map<number, Resolved>, plans: Map<string, NpmPlan>): NpmImportItem {
  const entry = item('redirection-host', host.id, list(host.domainNames) || `redirection host ${host.id}`);
  const notes: string[] = [];
  const lost: string[] = [];
  const names = hostNames(host.domainNames, lost);
  if (names.length === 0) return refuse(entry, ...lost, 'It has no host name Gatehouse can serve.');
  const clash = clashOf(names, here.routes);
  if (clash) return refuse(entry, clash);
  if (!host.forwardDomainName) return refuse(entry, 'It has no forward domain, so there is nowhere to send visitors.');

  // NPM's "auto" ($scheme) kept the visitor's scheme; a Gatehouse redirect has one fixed target.
  const sameScheme = host.forwardScheme !== 'http' && host.forwardScheme !== 'https';
  const scheme = sameScheme ? (host.sslForced && host.certificateId > 0 ? 'https' : 'http') : host.forwardScheme;
  if (sameScheme) {
    lost.push(`NPM sent visitors to ${host.forwardDomainName} on the scheme they came with; a Gatehouse redirect has one fixed address, so it sends them to ${scheme}:// (change it on the route if ${host.forwardDomainName} serves ${scheme === 'https' ? 'only HTTP' : 'HTTPS'}).`);
  }
  const to = parseRedirectTarget(`${scheme}://${host.forwardDomainName.replace(/^[a-z]+:\/\//i, '')}`);
  if ('problem' in to) return refuse(entry, `Gatehouse cannot redirect to it: ${to.problem}.`);
  const status = NPM_STATUS[host.forwardHttpCode] ?? (host.forwardHttpCode === 300 || host.forwardHttpCode === 303 ? 302 : 301);
  if (NPM_STATUS[host.forwardHttpCode] === undefined) {
    lost.push(
      host.forwardHttpCode === 300 || host.forwardHttpCode === 303
        ? `NPM answered ${host.forwardHttpCode}; Gatehouse redirects with 301, 302, 307 or 308, so it answers 302 (temporary, which browsers follow the same way).`
        : `NPM answered ${host.forwardHttpCode}, which browsers do not follow as a redirect; Gatehouse answers 301 (permanent), which is what such a host was meant to do.`,
    );
  }

  const needs: string[] = [];
  const { certificate, tls } = certificateFor(host, names, certificates, lost, needs);
  if (host.advancedConfig) lost.push("The custom Nginx configuration (Advanced tab) is not imported: Gatehouse does not run Nginx.");
  if (!host.enabled) notes.push('It was disabled in NPM, so it comes in turned off.');
  notes.push('Gatehouse routes start reachable from this network only; if visitors come from the internet, set "Who can reach it" to "anyone" on the route\'s Access tab.');

  const route = { names, upstreams: [] as { url: string }[], redirect: { to: to.url, status, keepPath: host.preservePath }, enabled: host.enabled };
  const probe = RouteInputSchema.safeParse({ ...route, tls: certificate ? { mode: 'custom', certificateId: 'probe', redirectHttp: host.sslForced, hsts: host.hstsEnabled } : undefined });
  if (!probe.success) return refuse(entry, ...probe.error.issues.map((issue) => `Gatehouse cannot take it: ${issue.path.join('.')}: ${issue.message}.`));
  plans.set(entry.key, {
    kind: 'proxy-host',
    key: entry.key,
    route: { ...route, tls: certificate ? { mode: 'custom', certificateId: null, redirectHttp: host.sslForced, hsts: host.hstsEnabled } : undefined } as NpmPlanRoute,
    certificate,
    list: null,
    signInUsers: null,
  });
  return {
    ...entry,
    maps: lost.length > 0 ? 'partly' : 'yes',
    becomes: `redirect route ${list(names)} → ${status} to ${to.url}${host.preservePath ? ' (path kept)' : ''}, ${tls}${host.enabled ? '' : ' (turned off)'}`,
    notes: [...lost, ...notes],
    needs,
  };
}

// ---------------------------------------------------------------------------------------------

function streamItem(npm: NpmStream, here: GatehouseNow, plans: Map<string, NpmPlan>): NpmImportItem {
  const protocols = [...(npm.tcp ? ['tcp' as const] : []), ...(npm.udp ? ['udp' as const] : [])];
  const entry = item('stream', npm.id, `port ${npm.incomingPort ?? '?'} → ${npm.forwardingHost}:${npm.forwardingPort ?? '?'}`);
  if (npm.incomingPort === null || npm.forwardingPort === null || !npm.forwardingHost) return refuse(entry, 'It has no listening port or no forward address, so there is nothing to import.');
  if (protocols.length === 0) return refuse(entry, 'It forwards neither TCP nor UDP in NPM.');
  for (const protocol of protocols) {
    const taken = here.streams.find((s) => (s.protocol === 'udp') === (protocol === 'udp') && npm.incomingPort! >= s.listenPort && npm.incomingPort! <= (s.listenPortEnd ?? s.listenPort));
    if (taken) return refuse(entry, `The Gatehouse stream "${taken.title}" listens on ${protocol.toUpperCase()} port ${npm.incomingPort} already (imported before?).`);
  }
  const host = npm.forwardingHost.includes(':') && !npm.forwardingHost.startsWith('[') ? `[${npm.forwardingHost}]` : npm.forwardingHost;
  const streams: StreamInput[] = protocols.map((protocol) => ({
    title: `NPM stream ${npm.incomingPort}${protocols.length > 1 ? ` (${protocol.toUpperCase()})` : ''}`,
    protocol,
    enabled: npm.enabled,
    listenPort: npm.incomingPort!,
    upstreams: [`${host}:${npm.forwardingPort}`],
  }));
  const notes = protocols.length > 1 ? ['NPM forwarded TCP and UDP on the port; Gatehouse makes one stream for each.'] : [];
  if (!npm.enabled) notes.push('It was disabled in NPM, so it comes in turned off.');
  plans.set(entry.key, { kind: 'stream', key: entry.key, streams });
  return { ...entry, maps: 'yes', becomes: `${protocols.map((p) => p.toUpperCase()).join(' and ')} stream on port ${npm.incomingPort} → ${host}:${npm.forwardingPort}`, notes };
}
