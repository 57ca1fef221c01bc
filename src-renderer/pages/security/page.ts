import { definePage } from '../../shell/page-definition.js';
import SecurityPage from './SecurityPage.svelte';

export default definePage({
  path: '/security',
  title: 'Sign-in & security',
  nav: { label: 'Security', order: 95, webOnly: true },
  component: SecurityPage,
});
