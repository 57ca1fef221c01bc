// Contract placeholder: the table of home-lab apps Gatehouse recognises (with each fingerprint's
// public source) replaces this.
import type { AppPreset } from '../../../shared/status.js';

export const presets: readonly AppPreset[] = [];
