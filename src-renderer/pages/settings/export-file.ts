// Saving the export as a file. A Blob URL on a temporary <a download> works in a browser and in
// Electron alike, with no inline script (the CSP forbids them) and no new window.
import type { SettingsExport } from '../../../shared/status.js';
import { localDate } from '../../format.js';

export function exportFileName(now: Date): string {
  return `gatehouse-settings-${localDate(now)}.json`;
}

export function downloadExport(data: SettingsExport, now = new Date()): string {
  const name = exportFileName(now);
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; revoke later, not at once, for slower browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
