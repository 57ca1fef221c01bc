import { definePage } from '../../shell/page-definition.js';
import AddRoutePage from './AddRoutePage.svelte';

export default definePage({ path: '/routes/new', title: 'Add route', component: AddRoutePage });
