// Types for importing undici's request() on its own: the pool module alone (upstreams.ts) has no
// request method, which undici's package entry adds to every dispatcher when loaded whole.
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
