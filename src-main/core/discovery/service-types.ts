// The DNS-SD service types Gatehouse browses continuously, and which of them lead to a web page
// worth identifying. Each one is here because home-lab software or devices announce it; the source
// says where that announcement is documented. Fewer types mean fewer queries on the LAN, so a type
// earns its place by pointing at something a person would want to reach or recognise.

export interface BrowsedType {
  /** The DNS-SD type, "_http._tcp". */
  type: string;
  /** Whether what it announces usually serves a web UI on the announced port (worth identifying). */
  web: boolean;
  /** Why it is browsed, and where the announcement is documented. */
  why: string;
}

export const browsedTypes: readonly BrowsedType[] = [
  // RFC 6763 §7 and the IANA service-name registry: any web page (NAS admin pages, printers, apps).
  { type: '_http._tcp', web: true, why: 'web UIs of NAS units, routers, printers and self-hosted apps (RFC 6763, IANA registry)' },
  { type: '_https._tcp', web: true, why: 'the same over TLS, usually with a self-signed certificate (IANA registry)' },
  // Home Assistant's zeroconf integration announces the instance (homeassistant/components/zeroconf,
  // ZEROCONF_TYPE "_home-assistant._tcp.local.").
  { type: '_home-assistant._tcp', web: true, why: 'Home Assistant instances (its zeroconf integration announces them)' },
  // Plex Media Server announces itself over Bonjour; Home Assistant's Plex integration matches it
  // (homeassistant/components/plex/manifest.json, zeroconf "_plexmediasvr._tcp.local.").
  { type: '_plexmediasvr._tcp', web: true, why: 'Plex Media Server (its Bonjour announcement, matched by Home Assistant\'s Plex manifest)' },
  // IPP Everywhere / Apple's Bonjour Printing Specification: printers and CUPS servers, whose IPP
  // port also serves the printer's web page (CUPS: http://host:631/).
  { type: '_ipp._tcp', web: true, why: 'printers and CUPS print servers (IPP Everywhere, Bonjour Printing); the IPP port serves their web page' },
  // avahi-daemon ships /usr/share/doc/avahi-daemon/examples/ssh.service; NAS units announce it too.
  { type: '_ssh._tcp', web: false, why: 'Linux servers and NAS units with SSH (avahi\'s ssh.service example, Synology, TrueNAS)' },
  // Samba's vfs_fruit/avahi integration, Synology DSM and TrueNAS announce their SMB shares.
  { type: '_smb._tcp', web: false, why: 'file shares of NAS units and Samba servers (Samba, Synology DSM, TrueNAS)' },
  // avahi-daemon's publish-workstation (avahi-daemon.conf(5)): every Linux host running avahi, so the
  // home server itself shows up with its name and addresses even when it announces nothing else.
  { type: '_workstation._tcp', web: false, why: 'Linux hosts running avahi-daemon (publish-workstation in avahi-daemon.conf)' },
  // Google Cast devices (Chromecast, Google TV, Nest speakers) announce _googlecast (Google Cast SDK docs).
  { type: '_googlecast._tcp', web: false, why: 'Chromecast, Google TV and Nest speakers (Google Cast)' },
  // HomeKit Accessory Protocol: bridges such as Homebridge and Home Assistant's HomeKit Bridge
  // (Apple's HAP specification; Homebridge docs), the usual sign of a home-automation box.
  { type: '_hap._tcp', web: false, why: 'HomeKit bridges such as Homebridge and Home Assistant\'s HomeKit Bridge (Apple HAP)' },
  // AirPlay receivers: Apple TV, speakers, shairport-sync on a Raspberry Pi (shairport-sync README).
  { type: '_airplay._tcp', web: false, why: 'AirPlay receivers: Apple TV, speakers (Apple AirPlay)' },
  { type: '_raop._tcp', web: false, why: 'AirPlay audio receivers such as shairport-sync (Remote Audio Output Protocol)' },
  // Not browsed: _device-info._tcp. It is not a service but a TXT-only record Apple devices attach to
  // their host name to give the model ("model=Macmini9,1"); it has no port to map, and browsing it
  // only adds traffic.
];

/** The types as browsed, "_http._tcp". */
export const serviceTypes: readonly string[] = browsedTypes.map((entry) => entry.type);

/** Whether any of a service's types usually leads to a web UI: those are identified over HTTP(S). */
export function looksLikeWebService(types: readonly string[]): boolean {
  return types.some((type) => browsedTypes.some((entry) => entry.type === type && entry.web));
}
