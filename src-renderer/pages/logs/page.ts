import { definePage } from '../../shell/page-definition.js';
import LogsPage from './LogsPage.svelte';

export default definePage({ path: '/logs', title: 'Logs', nav: { label: 'Logs', order: 20 }, component: LogsPage });
