// The settings store's public face: what the gateway and the shells import.
export { SettingsReadOnlyError, SettingsStore } from './store.js';
export { NEWER_VERSION_CODE, UNREADABLE_CODE } from './notices.js';
export { SETTINGS_FILE } from './load.js';
