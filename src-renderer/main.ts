// Starts the page: picks the transport (the Electron preload's bridge when there is one, HTTP to the
// page's own origin otherwise), builds the API client over it and mounts the status page.
import { mount } from 'svelte';
import { createApiClient, type ApiTransport } from '../shared/api.js';
import App from './App.svelte';
import './app.css';
import { StatusPage } from './status-page.svelte.js';
import { createElectronTransport } from './transport/electron.js';
import { createHttpTransport, readToken } from './transport/http.js';

function pickTransport(onReconnect: () => void): ApiTransport {
  if (window.gatehouse) return createElectronTransport(window.gatehouse);
  return createHttpTransport({
    baseUrl: location.origin,
    token: readToken({ location, history, storage: sessionStorage }),
    fetch: window.fetch.bind(window),
    onReconnect,
  });
}

const transport = pickTransport(() => void page.reload());
const page = new StatusPage(createApiClient(transport));
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { page } });
page.connect();
