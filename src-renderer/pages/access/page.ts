import { definePage } from '../../shell/page-definition.js';
import AccessPage from './AccessPage.svelte';

export default definePage({ path: '/access', title: 'Access', nav: { label: 'Access', order: 30 }, component: AccessPage });
