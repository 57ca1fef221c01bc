import { definePage } from '../../shell/page-definition.js';
import EditRoutePage from './EditRoutePage.svelte';

export default definePage({ path: '/routes/:id', title: 'Edit route', component: EditRoutePage });
