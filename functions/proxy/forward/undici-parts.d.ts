/**
 * Types of the undici modules the upstream edge imports one by one (upstream.ts): the package's
 * index loads fetch, WebSocket, the cache and the mocks as well, which the proxy never uses.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';

  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';

  /** undici's `request` API; `this` is the dispatcher (the package index attaches it as a method). */
  function request(this: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}

declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';

  const all: typeof errors;
  export default all;
}
