import { definePage } from '../../shell/page-definition.js';
import DiscoveryPage from './DiscoveryPage.svelte';

export default definePage({ path: '/discovery', title: 'Discovery', nav: { label: 'Discovery', order: 10 }, component: DiscoveryPage });
