import { definePage } from '../../shell/page-definition.js';
import RouteInsightPage from './RouteInsightPage.svelte';

export default definePage({ path: '/routes/:id/insight', title: 'Route', component: RouteInsightPage });
