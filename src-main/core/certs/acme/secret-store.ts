// Secrets Gatehouse keeps for ACME (DNS provider credentials, EAB HMAC keys): encrypted at rest,
// in DATA_DIR/acme/secrets/ with mode 0600, and never returned by the API (it says only whether
// one is set). The encryption is a SecretBox: Electron's safeStorage (the OS keystore) in the
// desktop app, otherwise AES-256-GCM with a key file (0600) in the data directory.
// Issue 15 foundation: the seam; the store itself comes with the DNS providers.

/** Encrypts and decrypts secrets; `kind` tells the UI where the key lives. */
export interface SecretBox {
  readonly kind: 'os-keystore' | 'key-file';
  encrypt(plain: string): Promise<Buffer>;
  decrypt(sealed: Buffer): Promise<string>;
}

export interface SecretStore {
  readonly storedIn: SecretBox['kind'];
  get(id: string): Promise<string | null>;
  has(id: string): boolean;
  set(id: string, value: string): Promise<void>;
  remove(id: string): Promise<void>;
}
