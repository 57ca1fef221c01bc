// Saving the export as a file. A Blob URL on a temporary <a download> works in a browser and in
// Electron alike, with no inline script (the CSP forbids them) and no new window.
// In the Electron window nothing in the main process needs to handle it: with no `will-download`
// handler that calls setSavePath, Electron "will use the original routine to determine the save
// path; this usually prompts a save dialog" (Electron docs, DownloadItem `setSavePath` / `savePath`,
// https://electronjs.org/docs/api/download-item; the <a download> save dialog itself is Electron's,
// see electron/electron#16612). So the person picks where the file goes, named as below.
import type { SettingsExport } from '../../../shared/status.js';
import { localDate } from '../../format.js';

export function exportFileName(now: Date): string {
  return `gatehouse-settings-${localDate(now)}.json`;
}

export function downloadExport(data: SettingsExport, now = new Date()): string {
  const name = exportFileName(now);
  saveFile(name, new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }));
  return name;
}

/** Hands `blob` to the browser (or Electron) as a download named `name`. */
export function saveFile(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; revoke later, not at once, for slower browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
