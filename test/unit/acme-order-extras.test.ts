// The newOrder body: identifiers (DNS names, IP addresses per RFC 8738), `profile` only when one is
// chosen, `replaces` only on a renewal, and a clear refusal for values no CA would take.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newOrderPayload } from '../../src-main/core/certs/acme/order-extras.js';

test('a first order with the CA’s default profile carries identifiers only', () => {
  assert.deepEqual(newOrderPayload(['www.example.com', '*.example.com'], { profile: null, replaces: null }), {
    identifiers: [
      { type: 'dns', value: 'www.example.com' },
      { type: 'dns', value: '*.example.com' },
    ],
  });
});

test('profile and replaces are added when given', () => {
  assert.deepEqual(newOrderPayload(['a.example.com'], { profile: 'shortlived', replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' }), {
    identifiers: [{ type: 'dns', value: 'a.example.com' }],
    profile: 'shortlived',
    replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
  });
  assert.deepEqual(Object.keys(newOrderPayload(['a.example.com'], { profile: 'tlsserver', replaces: null })), ['identifiers', 'profile']);
});

test('IP addresses are ip identifiers', () => {
  assert.deepEqual(newOrderPayload(['192.0.2.7', '2001:db8::1'], { profile: null, replaces: null }).identifiers, [
    { type: 'ip', value: '192.0.2.7' },
    { type: 'ip', value: '2001:db8::1' },
  ]);
});

test('no names, a profile name with spaces, or a replaces that is not an ARI id are refused', () => {
  assert.throws(() => newOrderPayload([], { profile: null, replaces: null }), /at least one name/);
  assert.throws(() => newOrderPayload(['a.example.com'], { profile: 'short lived', replaces: null }), /not a profile name/);
  assert.throws(() => newOrderPayload(['a.example.com'], { profile: null, replaces: 'no-dot' }), /not an ARI certificate id/);
});
