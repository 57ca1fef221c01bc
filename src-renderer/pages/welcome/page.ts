import { definePage } from '../../shell/page-definition.js';
import WelcomePage from './WelcomePage.svelte';

export default definePage({ path: '/welcome', title: 'Welcome to Gatehouse', component: WelcomePage });
