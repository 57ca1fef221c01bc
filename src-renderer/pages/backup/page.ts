import { definePage } from '../../shell/page-definition.js';
import BackupPage from './BackupPage.svelte';

export default definePage({ path: '/backup', title: 'Backup & restore', nav: { label: 'Backup', order: 85 }, component: BackupPage });
