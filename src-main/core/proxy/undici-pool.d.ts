// Types for importing undici's connection pool module on its own (see upstreams.ts for why).
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}

// undici's connector factory on its own (upstreams/skip-continue.ts wraps it).
declare module 'undici/lib/core/connect.js' {
  import type { buildConnector } from 'undici';
  const build: typeof buildConnector;
  export default build;
}
