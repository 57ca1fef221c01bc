// Starts the page: picks the transport (the Electron preload's bridge when there is one, HTTP to the
// page's own origin otherwise), builds the API client and the shared state over it, and mounts the
// shell on the page the hash names.
import './zod-setup.js';
import { mount } from 'svelte';
import { createApiClient, type ApiTransport } from '../shared/api.js';
import App from './App.svelte';
import './app.css';
import './controls.css';
import { AppState } from './app/app-state.svelte.js';
import { pages } from './shell/pages.js';
import { HashRouter } from './shell/router.svelte.js';
import { createElectronTransport } from './transport/electron.js';
import { createHttpTransport, readToken } from './transport/http.js';

function pickTransport(onReconnect: () => void): ApiTransport {
  if (window.gatehouse) return createElectronTransport(window.gatehouse);
  return createHttpTransport({
    baseUrl: location.origin,
    // Reads (and strips) #token=… before the router looks at the hash.
    token: readToken({ location, history, storage: sessionStorage }),
    fetch: window.fetch.bind(window),
    onReconnect,
  });
}

const transport = pickTransport(() => void app.reconnected());
const app = new AppState(createApiClient(transport));
// The token (if any) is out of the address by now; an empty hash becomes #/ so the address names
// the page like every other one does.
if (location.hash === '' || location.hash === '#') history.replaceState(null, '', '#/');
const router = new HashRouter(pages, window);
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
router.start();
mount(App, { target, props: { app, router } });
app.connect();
