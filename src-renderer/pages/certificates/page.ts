import { definePage } from '../../shell/page-definition.js';
import CertificatesPage from './CertificatesPage.svelte';

export default definePage({ path: '/certificates', title: 'Certificates', nav: { label: 'Certificates', order: 50 }, component: CertificatesPage });
