// Moving in from Nginx Proxy Manager: previewNpmImport reads NPM's data folder (copied here) and says
// what each object becomes; applyNpmImport imports the chosen ones through the gateway's own
// handlers. See core/insight/npm-*.ts and docs/move-in-from-npm.md.
import type { ApiHandlers } from '../../../shared/api.js';
import { certificateFiles, readNpmData } from '../insight/npm-import-database.js';
import { applyNpmPlans, type NpmImportHandlers } from '../insight/npm-import-apply.js';
import { planNpmImport, type GatehouseNow, type NpmImportPlan } from '../insight/npm-import-preview.js';

type Members = 'previewNpmImport' | 'applyNpmImport';

export interface NpmImportDeps {
  /** The gateway's handler table (given lazily: it is being built when this is). */
  handlers: () => NpmImportHandlers & Pick<ApiHandlers, 'listRoutes' | 'getAccess' | 'getCertificates' | 'listStreams'>;
  /** Default: the system clock. */
  now?: () => Date;
}

export function npmImportHandlers(deps: NpmImportDeps): Pick<ApiHandlers, Members> {
  const now = deps.now ?? (() => new Date());

  async function plan(folder: string): Promise<NpmImportPlan> {
    const data = await readNpmData(folder);
    const handlers = deps.handlers();
    const [routes, access, certificates, streams] = await Promise.all([
      handlers.listRoutes({}),
      handlers.getAccess({}),
      handlers.getCertificates({}),
      handlers.listStreams({}),
    ]);
    const here: GatehouseNow = {
      routes,
      lists: access.lists,
      users: access.users.map((user) => user.name),
      customCertificates: certificates.custom,
      streams: streams.map((view) => view.stream),
    };
    return planNpmImport(data, here, now(), (cert) => certificateFiles(data.folder, cert));
  }

  return {
    previewNpmImport: async ({ folder }) => (await plan(folder)).preview,

    // Planned again from the folder and Gatehouse as they are now, so a second run finds what the
    // first imported (clashes, certificates by fingerprint, lists by name) and adds nothing twice.
    applyNpmImport: async ({ folder, keys }) => {
      const { preview, plans } = await plan(folder);
      return applyNpmPlans(preview, plans, keys, deps.handlers());
    },
  };
}
