// The front door's own costs (issue 13), as one section of `npm run bench`:
// - access checks: a route with every check on against the same route with none (bench/access.mjs);
// - a flood of 100,000 requests from 50,000 addresses: the proxy's RSS growth and a normal
//   client's p99 during it (bench/flood.mjs);
// - forward auth: the median a request gains when an auth server answering at once is asked
//   (bench/forward-auth.mjs);
// - the request inspector: a route not inspected and an inspected one against no inspection (bench/inspector.mjs).
// Each part reports its own error instead of throwing, so one broken part still leaves the others.
import { accessTargets, describeAccess, measureAccess } from './access.mjs';
import { FLOOD_TARGET_MB, measureFlood } from './flood.mjs';
import { FORWARD_AUTH_TARGETS, measureForwardAuth } from './forward-auth.mjs';
import { describeInspector, inspectorTargets, measureInspector } from './inspector.mjs';
import { fmt } from './report.mjs';

const FLOOD_TARGET = { id: 'flood-rss', text: `a flood of 100,000 requests from 50,000 addresses grows RSS ≤ ${FLOOD_TARGET_MB} MB; a normal client is still answered` };

async function attempt(what) {
  try {
    return await what();
  } catch (error) {
    return { error: String(error?.message ?? error).split('\n')[0] };
  }
}

/** Measures the three parts, one after another (each starts and stops its own processes). */
export async function measureFrontDoor(ctx, options = {}) {
  const access = await measureAccess(ctx, options);
  // A quick run floods with a tenth, bounded in time either way.
  const flood = await attempt(() => measureFlood(options.quick ? { requests: 10_000, addresses: 5_000, maxSeconds: 120 } : { maxSeconds: 600 }));
  const forwardAuth = await attempt(() => measureForwardAuth({ quick: options.quick }));
  const inspector = await measureInspector(ctx, options);
  return { access, flood, forwardAuth, inspector, failed: access.failed || Boolean(flood.error) || Boolean(forwardAuth.error) || inspector.failed };
}

export function frontDoorTargets({ access, flood, forwardAuth, inspector }) {
  const out = [...accessTargets(access)];
  if (flood.error) out.push({ ...FLOOD_TARGET, status: 'MISS', detail: `not measured: ${flood.error}` });
  else {
    const { growth } = flood.rssMiB;
    const ok = growth <= FLOOD_TARGET_MB && flood.normalClient.failures === 0;
    out.push({
      ...FLOOD_TARGET,
      status: ok ? 'PASS' : 'MISS',
      detail: `+${fmt(growth, 1)} MiB over ${fmt(flood.flood.requests)} requests from ${fmt(flood.flood.addresses)} addresses; normal client p99 ${fmt(flood.normalClient.p99Ms, 1)} ms, ${flood.normalClient.failures} failed`,
    });
  }
  const [fa] = FORWARD_AUTH_TARGETS;
  if (forwardAuth.error) out.push({ id: fa.id, text: fa.text, status: 'MISS', detail: `not measured: ${forwardAuth.error}` });
  else {
    out.push({
      id: fa.id,
      text: fa.text,
      status: forwardAuth.addedMedianMs <= fa.limit ? 'PASS' : 'MISS',
      detail: `+${fmt(forwardAuth.addedMedianMs, 3)} ms (${fmt(forwardAuth.forwardAuth.medianMs, 3)} vs ${fmt(forwardAuth.plain.medianMs, 3)} ms, ${fmt(forwardAuth.ratio, 2)}×)`,
    });
  }
  if (inspector) out.push(...inspectorTargets(inspector));
  return out;
}

export function describeFrontDoor({ access, flood, forwardAuth, inspector }) {
  const lines = [describeAccess(access), '', 'Flood (engine in its own process; only 127.0.0.1 counts as this network, so every flood address is counted):'];
  if (flood.error) lines.push(`  ERROR: ${flood.error}`);
  else {
    const f = flood.flood;
    lines.push(`  ${fmt(f.requests)} requests from ${fmt(f.addresses)} addresses in ${fmt(f.seconds, 1)} s (${fmt(f.perSecond)}/s)${f.stoppedAtDeadline ? ', STOPPED at the time limit' : ''}; answers ${JSON.stringify(f.statuses)}`);
    lines.push(`  RSS ${fmt(flood.rssMiB.before, 1)} → ${fmt(flood.rssMiB.after, 1)} MiB (+${fmt(flood.rssMiB.growth, 1)}); heap after GC ${fmt(flood.afterGcMiB.heapBefore, 1)} → ${fmt(flood.afterGcMiB.heapAfter, 1)} MiB`);
    const n = flood.normalClient;
    lines.push(`  normal client during the flood: ${fmt(n.requests)} requests, ${n.failures} failed, p50 ${fmt(n.p50Ms, 1)} ms, p99 ${fmt(n.p99Ms, 1)} ms, max ${fmt(n.maxMs, 1)} ms`);
  }
  lines.push('', 'Forward auth (gatehouse serve; auth server and backend answer at once; one connection, sequential):');
  if (forwardAuth.error) lines.push(`  ERROR: ${forwardAuth.error}`);
  else {
    lines.push(`  without: median ${fmt(forwardAuth.plain.medianMs, 3)} ms, p95 ${fmt(forwardAuth.plain.p95Ms, 3)} ms; with forward auth: median ${fmt(forwardAuth.forwardAuth.medianMs, 3)} ms, p95 ${fmt(forwardAuth.forwardAuth.p95Ms, 3)} ms (${forwardAuth.requestsEach} requests each)`);
    lines.push(`  added: ${fmt(forwardAuth.addedMedianMs, 3)} ms median (${fmt(forwardAuth.ratio, 2)}×)`);
  }
  if (inspector) lines.push('', describeInspector(inspector));
  return lines.join('\n');
}
