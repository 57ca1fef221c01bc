// The route doctor's API member: finds the route, takes the visitor (given, else the caller's
// address, else a typical internet address) and runs the checks of core/insight/doctor-route.ts
// against the live services. Not queued with changes: it only reads, and must answer within 5 s.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import { runRouteDoctor, type DoctorDeps } from '../insight/doctor-route.js';

type Members = 'runDoctor';

export interface DoctorHandlerDeps extends DoctorDeps {
  current: () => Settings;
}

export function doctorHandlers(deps: DoctorHandlerDeps): Pick<ApiHandlers, Members> {
  return {
    runDoctor: async ({ routeId, visitor }, context) => {
      const route = deps.current().routes.find((candidate) => candidate.id === routeId);
      if (!route) throw new ApiError('not_found', `There is no route "${routeId}"; it may have been removed.`);
      const caller = context?.client?.address?.replace(/^::ffff:(?=\d+\.)/i, '');
      // The trust stores' status is read once per run, from the start (it runs small commands).
      let plan: ReturnType<DoctorDeps['certificate']['trustPlan']> | null = null;
      const trustPlan = () => (plan ??= deps.certificate.trustPlan());
      return runRouteDoctor(route, visitor ?? caller, { ...deps, certificate: { ...deps.certificate, trustPlan } });
    },
  };
}
