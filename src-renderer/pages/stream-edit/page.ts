import { definePage } from '../../shell/page-definition.js';
import EditStreamPage from './EditStreamPage.svelte';

export default definePage({ path: '/streams/:id', title: 'Edit stream', component: EditStreamPage });
