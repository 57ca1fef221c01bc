import { definePage } from '../../shell/page-definition.js';
import SettingsPage from './SettingsPage.svelte';

export default definePage({ path: '/settings', title: 'Settings', nav: { label: 'Settings', order: 90 }, component: SettingsPage });
