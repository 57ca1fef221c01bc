// Imported first by main.ts, before anything that builds a schema: zod decides per schema, when it
// is built, whether to compile a fast path with `new Function`. The CSP forbids eval, so that would
// fail (or log a CSP violation for zod's probe) on every page load; the forms do not need the speed.
import { config } from 'zod';

config({ jitless: true });
