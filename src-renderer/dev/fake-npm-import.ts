// The fake Gatehouse's "move in from Nginx Proxy Manager": a home lab's NPM folder with a host of
// each kind (one that maps, one partly, a clash, a redirect, a Let's Encrypt certificate not copied),
// as the real preview words them. Importing remembers what came in, so a second preview shows it
// as already there, like the real one.
import { ApiError } from '../../shared/api.js';
import type { NpmImportItem, NpmImportPreview, NpmImportResult } from '../../shared/insight.js';

const SCANNERS = "NPM's \"Block Common Exploits\" becomes Gatehouse's scanner protection, which is on for every route.";
const LAN_ONLY = 'Gatehouse routes start reachable from this network only; if visitors come from the internet, set "Who can reach it" to "anyone" on the route\'s Access tab.';

function sampleItems(): NpmImportItem[] {
  return [
    {
      key: 'proxy-host:1', kind: 'proxy-host', npmId: 1, label: 'jellyfin.example.com', maps: 'yes',
      becomes: 'route jellyfin.example.com → http://10.33.0.4:8096, HTTPS with the imported certificate, HTTP sent to HTTPS, WebSocket',
      notes: [SCANNERS, LAN_ONLY], needs: ['certificate:1'],
    },
    {
      key: 'proxy-host:2', kind: 'proxy-host', npmId: 2, label: 'nextcloud.example.com', maps: 'partly',
      becomes: 'route nextcloud.example.com → http://10.33.0.6:80, HTTPS with the imported certificate, access list "Family" with sign-in',
      notes: [
        "The custom Nginx configuration (Advanced tab) is not imported: Gatehouse does not run Nginx. Read it and look for the same setting on the route's page (headers, limits, access).",
        'The custom location "/push" → http://10.33.0.6:7867 is not imported: a Gatehouse route sends every path to its upstream; make a separate route (another name) for that app.',
        SCANNERS,
        LAN_ONLY,
      ],
      needs: ['certificate:1', 'access-list:1'],
    },
    {
      key: 'proxy-host:3', kind: 'proxy-host', npmId: 3, label: 'ha.example.com', maps: 'partly',
      becomes: 'route ha.example.com → http://homeassistant:8123, HTTP only, WebSocket',
      notes: [
        "Its certificate (NPM #2, ha.example.com) cannot come along (see that item), so the route starts as HTTP only, without the redirect to HTTPS: choose HTTPS for it in Gatehouse (the local CA, or Let's Encrypt for a public name).",
        'NPM reached the app as "homeassistant", probably a Docker container name that only NPM\'s Docker network knows: if this machine cannot resolve it, change the upstream to the app\'s LAN address and published port.',
        LAN_ONLY,
      ],
      needs: [],
    },
    {
      key: 'proxy-host:4', kind: 'proxy-host', npmId: 4, label: 'photos.example.com', maps: 'no', becomes: null,
      notes: ['"photos.example.com" is served by the Gatehouse route "Immich" already (imported before?). Remove or rename that route to import this host.'], needs: [],
    },
    {
      key: 'redirection-host:1', kind: 'redirection-host', npmId: 1, label: 'www.example.com', maps: 'partly',
      becomes: 'redirect route www.example.com → 301 to http://example.com (path kept), HTTP only',
      notes: [
        'NPM sent visitors to example.com on the scheme they came with; a Gatehouse redirect has one fixed address, so it sends them to http:// (change it on the route if example.com serves HTTPS).',
        'Gatehouse routes start reachable from this network only; if visitors come from the internet, set "Who can reach it" to "anyone" on the route\'s Access tab.',
      ],
      needs: [],
    },
    {
      key: 'access-list:1', kind: 'access-list', npmId: 1, label: 'Family', maps: 'partly',
      becomes: 'access list "Family" with 4 entries, with sign-in for 2 users',
      notes: [
        'NPM refused every address its rules do not name; the list ends with "deny everyone else" to do the same.',
        '"grandpa"\'s NPM password is shorter than the 10 characters Gatehouse asks for: add the user on the Access page with a longer one.',
        '"anna" comes in as a Gatehouse sign-in user with the same password (NPM kept it as typed; Gatehouse stores only an Argon2 hash of it).',
      ],
      needs: [],
    },
    {
      key: 'certificate:1', kind: 'certificate', npmId: 1, label: 'example.com wildcard', maps: 'yes',
      becomes: 'imported certificate for *.example.com, example.com, valid until 2027-03-01 12:00 UTC',
      notes: ['Found in /srv/npm-data/custom_ssl/npm-1.'], needs: [],
    },
    {
      key: 'certificate:2', kind: 'certificate', npmId: 2, label: 'ha.example.com', maps: 'no', becomes: null,
      notes: ["NPM keeps Let's Encrypt certificates in its /etc/letsencrypt volume, which is not in this folder. To bring this one, copy it too (docker cp <npm-container>:/etc/letsencrypt <this folder>/letsencrypt) and preview again; or let Gatehouse get a new one: choose HTTPS \"Let's Encrypt\" on the route."],
      needs: [],
    },
    {
      key: 'stream:1', kind: 'stream', npmId: 1, label: 'port 2222 → 10.33.0.5:22', maps: 'yes',
      becomes: 'TCP stream on port 2222 → 10.33.0.5:22', notes: [], needs: [],
    },
  ];
}

export class FakeNpmImport {
  readonly #imported = new Set<string>();
  #nextId = 1;

  preview(folder: string): NpmImportPreview {
    const trimmed = folder.trim();
    if (trimmed.includes('nowhere')) {
      const message = `there is no folder ${trimmed} on this machine: copy NPM's data folder to this machine first, for example with "docker cp <npm-container>:/data ./npm-data"`;
      throw new ApiError('invalid_input', `folder: ${message}`, { issues: [{ path: 'folder', message }] });
    }
    const items = sampleItems().map((entry): NpmImportItem =>
      this.#imported.has(entry.key) ? { ...entry, maps: 'no', becomes: null, notes: ['It is in Gatehouse already (imported before).'], needs: [] } : entry,
    );
    return { folder: trimmed, items };
  }

  apply(folder: string, keys: readonly string[]): NpmImportResult {
    const items = this.preview(folder).items;
    const byKey = new Map(items.map((entry) => [entry.key, entry]));
    const chosen = new Set<string>();
    const add = (key: string) => {
      const entry = byKey.get(key);
      if (!entry || chosen.has(key)) return;
      chosen.add(key);
      entry.needs.forEach(add);
    };
    keys.forEach(add);
    const result: NpmImportResult = { imported: [], skipped: [] };
    for (const key of chosen) {
      const entry = byKey.get(key)!;
      if (entry.maps === 'no') result.skipped.push({ key, reason: entry.notes.at(-1) ?? 'Gatehouse cannot import it.' });
      else {
        this.#imported.add(key);
        result.imported.push({ key, kind: entry.kind, id: `npm${this.#nextId++}` });
      }
    }
    return result;
  }
}
