// Starts the page: picks the transport (the Electron preload's bridge when there is one, HTTP to the
// page's own origin otherwise), builds the API client and the shared state over it, and mounts the
// shell on the page the hash names. Over HTTP the shell waits behind sign-in (sign-in/); the
// Electron window is the local user's own app and shows it at once.
import './zod-setup.js';
import { mount } from 'svelte';
import { createApiClient } from '../shared/api.js';
import App from './App.svelte';
import './app.css';
import './controls.css';
import { AppState } from './app/app-state.svelte.js';
import { pages } from './shell/pages.js';
import { HashRouter } from './shell/router.svelte.js';
import { Session } from './sign-in/session.svelte.js';
import SignInGate from './sign-in/SignInGate.svelte';
import { createAuthClient } from './transport/auth.js';
import { createElectronTransport } from './transport/electron.js';
import { createHttpTransport, stripTokenFromAddress } from './transport/http.js';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

function showPage(): HashRouter<(typeof pages)[number]> {
  // An empty hash becomes #/ so the address names the page like every other one does.
  if (location.hash === '' || location.hash === '#') history.replaceState(null, '', '#/');
  const router = new HashRouter(pages, window);
  router.start();
  return router;
}

if (window.gatehouse) {
  const app = new AppState(createApiClient(createElectronTransport(window.gatehouse)));
  const router = showPage();
  mount(App, { target, props: { app, router } });
  app.connect();
} else {
  // Before the router reads the hash: an old bookmark's #token=… goes, unused.
  stripTokenFromAddress({ location, history });
  const fetchImpl = window.fetch.bind(window);
  const transport = createHttpTransport({
    baseUrl: location.origin,
    fetch: fetchImpl,
    onReconnect: () => void app.reconnected(),
    onUnauthorized: () => session.lost(),
  });
  const app = new AppState(createApiClient(transport));
  let connected = false;
  const session = new Session(
    createAuthClient({ baseUrl: location.origin, fetch: fetchImpl }),
    () => {
      // First sign-in of this page: subscribe and load. Later ones (after a session ended): open
      // the event stream again and read everything again.
      if (!connected) {
        connected = true;
        app.connect();
        return;
      }
      transport.resumeEvents();
      void app.reconnected();
    },
    () => transport.pauseEvents(),
  );
  const router = showPage();
  mount(SignInGate, { target, props: { session, app, router } });
  void session.check();
}
