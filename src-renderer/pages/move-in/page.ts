import { definePage } from '../../shell/page-definition.js';
import MoveInPage from './MoveInPage.svelte';

export default definePage({ path: '/move-in', title: 'Move in from Nginx Proxy Manager', component: MoveInPage });
