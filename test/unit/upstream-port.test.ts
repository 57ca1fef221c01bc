// An upstream's port must be one a service can listen on: 0 is refused, and a port past 65535 is
// called out as a port (not "not an address"), in the parser, the route schema the API and the
// settings file use, and the route form's message, which all read the same rule.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUpstream, RouteInputSchema } from '../../shared/model.js';
import { upstreamRow } from '../../src-renderer/route-form/upstream-values.js';

const { RouteForm } = await import('../../src-renderer/route-form/route-form.svelte.js');

const PORT_RULE = 'a port is a number from 1 to 65535';

test('port 0 and ports past 65535 are refused with the port rule, in every spelling', () => {
  for (const input of ['10.33.0.4:0', 'http://10.33.0.4:0', 'https://nas.lan:0/', '[fd00::4]:0', '10.33.0.4:99999', 'http://nas.lan:65536', 'nas.lan:-1']) {
    const parsed = parseUpstream(input);
    assert.ok('problem' in parsed, `${input} was accepted as ${JSON.stringify(parsed)}`);
    assert.ok(parsed.problem.endsWith(PORT_RULE), `${input}: ${parsed.problem}`);
    assert.ok(!parsed.problem.includes('is not an address'), input);
  }
});

test('the ends of the range and implied ports still work', () => {
  assert.deepEqual(parseUpstream('10.33.0.4:1'), { url: 'http://10.33.0.4:1' });
  assert.deepEqual(parseUpstream('10.33.0.4:65535'), { url: 'http://10.33.0.4:65535' });
  assert.deepEqual(parseUpstream('https://nas.lan'), { url: 'https://nas.lan:443' });
  assert.deepEqual(parseUpstream('[fd00::4]:8096'), { url: 'http://[fd00::4]:8096' });
});

test('the route schema (API, settings file) and the route form say the same', () => {
  const result = RouteInputSchema.safeParse({ names: ['tv.home.arpa'], upstream: '10.33.0.4:99999' });
  assert.equal(result.success, false);
  const issue = result.error?.issues.find((i) => i.path.join('.') === 'upstreams.0.url');
  assert.equal(issue?.message, `"10.33.0.4:99999" has port 99999; ${PORT_RULE}`);

  const form = new RouteForm();
  Object.assign(form.values, { names: 'tv.home.arpa', upstreams: [upstreamRow({ url: '10.33.0.4:0' })] });
  form.fieldErrors.touch('upstreams.0.url');
  assert.equal(form.message('upstreams.0.url'), `"10.33.0.4:0" has port 0; ${PORT_RULE}`);
});
