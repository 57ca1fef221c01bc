// Secrets sealed by the OS keystore through Electron's safeStorage (Keychain, DPAPI, libsecret or
// KWallet). Where it is not available, or on Linux where it would fall back to a fixed password
// ("basic_text"), undefined is returned and the gateway uses its 0600 key file instead.
import { safeStorage } from 'electron';
import type { SecretBox } from '../core/certs/acme/secret-store.js';

/** Call after app "ready": safeStorage cannot tell before. */
export function osKeystoreSecretBox(): SecretBox | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && ['basic_text', 'unknown'].includes(safeStorage.getSelectedStorageBackend())) return undefined;
  return {
    kind: 'os-keystore',
    encrypt: async (plain) => safeStorage.encryptString(plain),
    decrypt: async (sealed) => safeStorage.decryptString(sealed),
  };
}
