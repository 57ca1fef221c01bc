/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { GatehouseBridge } from '../src-main/electron/bridge.js';

declare global {
  interface Window {
    /** Present when the page runs in Gatehouse's Electron window (set by the preload). */
    gatehouse?: GatehouseBridge;
  }
}
