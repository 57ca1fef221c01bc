import { definePage } from '../../shell/page-definition.js';
import AddStreamPage from './AddStreamPage.svelte';

export default definePage({ path: '/streams/new', title: 'Add stream', component: AddStreamPage });
