// Saving the CA in a format another device installs: downloadCa's base64 bytes as a file, through
// the same <a download> path as the settings export.
import type { CaDownload } from '../../shared/status.js';
import { saveFile } from '../pages/settings/export-file.js';

export type CaFormat = 'pem' | 'der' | 'mobileconfig';

/** The file's bytes: downloadCa sends them as base64 (DER is binary). */
export function caDownloadBytes(download: CaDownload): Uint8Array<ArrayBuffer> {
  const text = atob(download.base64);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index += 1) bytes[index] = text.charCodeAt(index);
  return bytes;
}

export function saveCaDownload(download: CaDownload): void {
  saveFile(download.fileName, new Blob([caDownloadBytes(download)], { type: download.mimeType }));
}
