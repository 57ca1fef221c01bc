// The ACME members of the API: directories, accounts, pre-flight (DNS providers: dns-provider-handlers.ts). Issue 15 foundation: every
// member is declared so both transports carry it; the ACME service answers them once it is wired in.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';

type AcmeMembers =
  | 'getAcmeDirectory'
  | 'addAcmeAccount'
  | 'updateAcmeAccount'
  | 'rolloverAcmeKey'
  | 'removeAcmeAccount'
  | 'preflightCertificate';

function notYet(): never {
  throw new ApiError('internal', 'ACME is not available in this build yet.');
}

export function acmeHandlers(): Pick<ApiHandlers, AcmeMembers> {
  return {
    getAcmeDirectory: async () => notYet(),
    addAcmeAccount: async () => notYet(),
    updateAcmeAccount: async () => notYet(),
    rolloverAcmeKey: async () => notYet(),
    removeAcmeAccount: async () => notYet(),
    preflightCertificate: async () => notYet(),
  };
}
