import { definePage } from '../../shell/page-definition.js';
import DashboardPage from './DashboardPage.svelte';

export default definePage({ path: '/', title: 'Dashboard', nav: { label: 'Dashboard', order: 0 }, component: DashboardPage });
