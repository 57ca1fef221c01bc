// The web UI's sign-in logic, against an in-memory Gatehouse (test/helpers/fake-auth.ts): which
// screen the session shows, the sign-in form's password-then-code steps and its messages, choosing
// and changing the password, and turning two-factor sign-in on with a real TOTP code.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import { qrCode } from '../../src-main/core/certs/qr.js';
import { FakeAuth } from '../helpers/fake-auth.js';

const { Session } = await import('../../src-renderer/sign-in/session.svelte.js');
const { SignInForm, NewPasswordForm, PasswordConfirmationForm } = await import('../../src-renderer/sign-in/password-forms.svelte.js');
const { TotpEnrolmentFlow } = await import('../../src-renderer/pages/security/security-flows.svelte.js');
const { groupedSecret } = await import('../../src-renderer/pages/security/otpauth-qr.js');
const { sessionEnds } = await import('../../src-renderer/pages/security/session-times.js');

function session(auth: FakeAuth) {
  let signIns = 0;
  let signOuts = 0;
  const value = new Session(
    auth,
    () => (signIns += 1),
    () => (signOuts += 1),
  );
  return { session: value, signIns: () => signIns, signOuts: () => signOuts };
}

describe('Session: which screen shows', () => {
  it('is checking until Gatehouse answers, then sign-in for a stranger', async () => {
    const { session: s, signIns } = session(new FakeAuth());
    assert.equal(s.view, 'checking');
    await s.check();
    assert.equal(s.view, 'sign-in');
    assert.equal(signIns(), 0);
  });

  it('opens the app at once when the browser is signed in already', async () => {
    const { session: s, signIns } = session(new FakeAuth({ signedIn: true }));
    await s.check();
    assert.equal(s.view, 'signed-in');
    assert.equal(signIns(), 1);
    await s.check();
    assert.equal(signIns(), 1, 'a second check of the same session is not a new sign-in');
  });

  it('asks for a password before anything else after the one-time link', async () => {
    const auth = new FakeAuth({ password: null, signedIn: true });
    const { session: s, signIns } = session(auth);
    await s.check();
    assert.equal(s.view, 'choose-password');
    assert.equal(signIns(), 0, 'the app does not start behind the password screen');
    const form = new NewPasswordForm(false);
    form.values.newPassword = 'a phrase of words';
    form.values.confirm = 'a phrase of words';
    assert.equal(await form.submit(auth), true);
    await s.check();
    assert.equal(s.view, 'signed-in');
    assert.equal(signIns(), 1);
  });

  it('shows sign-in without a password too (the screen explains the ways in)', async () => {
    const { session: s } = session(new FakeAuth({ password: null }));
    await s.check();
    assert.equal(s.view, 'sign-in');
    assert.equal(s.state?.passwordSet, false);
  });

  it('goes back to sign-in when an API call finds the session gone, and says why', async () => {
    const auth = new FakeAuth({ signedIn: true });
    const { session: s, signIns, signOuts } = session(auth);
    await s.check();
    auth.signedIn = false; // expired on the server
    s.lost();
    assert.equal(signOuts(), 1, 'the app is told, so live updates stop');
    assert.equal(s.view, 'sign-in', 'at once, before the state is read again');
    assert.equal(s.reason, 'ended');
    s.lost(); // a second 401 from another request changes nothing
    const form = new SignInForm();
    form.values.password = 'correct horse battery';
    const result = await form.submit(auth);
    assert.ok(result && result !== 'needs-code');
    s.signedIn(result);
    assert.equal(s.view, 'signed-in');
    assert.equal(s.reason, null);
    assert.equal(signIns(), 2, 'signing in again restarts the app');
  });

  it('signs out, here or everywhere', async () => {
    const auth = new FakeAuth({ signedIn: true });
    const { session: s, signOuts } = session(auth);
    await s.check();
    await s.signOut();
    assert.equal(signOuts(), 1);
    assert.equal(s.view, 'sign-in');
    assert.equal(s.reason, 'signed-out');
    assert.equal(auth.signedIn, false);
    auth.signedIn = true;
    auth.otherSessions = 2;
    await s.check();
    await s.signOutEverywhere();
    assert.equal(s.view, 'sign-in');
    assert.equal(auth.otherSessions, 0);
  });

  it('says so when Gatehouse cannot be reached, and recovers on retry', async () => {
    const auth = new FakeAuth();
    const { session: s } = session(auth);
    const state = auth.state.bind(auth);
    auth.state = () => Promise.reject(new Error('connection refused'));
    await s.check();
    assert.equal(s.view, 'unreachable');
    auth.state = state;
    await s.check();
    assert.equal(s.view, 'sign-in');
    assert.equal(s.problem, null);
  });
});

describe('SignInForm', () => {
  it('checks the field before asking Gatehouse', async () => {
    const auth = new FakeAuth();
    const form = new SignInForm();
    assert.equal(form.message('password'), null, 'no message before the person did anything');
    assert.equal(await form.submit(auth), null);
    assert.equal(form.message('password'), 'enter your password');
    assert.deepEqual(auth.calls, []);
  });

  it('shows a wrong password on the password field, and a rate limit in the alert', async () => {
    const auth = new FakeAuth();
    auth.failureLimit = 2;
    const form = new SignInForm();
    form.values.password = 'wrong';
    assert.equal(await form.submit(auth), null);
    assert.equal(form.message('password'), 'That password is not right.');
    assert.equal(form.error, null);
    form.fieldErrors.edited('password');
    assert.equal(form.message('password'), null, 'editing the field clears the server message');
    await form.submit(auth);
    await form.submit(auth);
    // Read again: TypeScript narrowed form.error to null at the first assertion above.
    const limited = (form as { error: { code: string; message: string } | null }).error;
    assert.equal(limited?.code, 'rate_limited');
    assert.match(limited!.message, /Try again in 5 minutes/);
  });

  it('asks for the code after the right password, and signs in with password and code', async () => {
    const auth = new FakeAuth({ signedIn: true });
    await auth.beginTotp({ password: 'correct horse battery' });
    await auth.confirmTotp({ code: auth.pendingTotp!.generate() });
    auth.signedIn = false;
    const form = new SignInForm();
    form.values.password = 'correct horse battery';
    assert.equal(await form.submit(auth), 'needs-code');
    assert.equal(form.needsCode, true);
    assert.equal(await form.submit(auth), null, 'the code is required now');
    assert.match(form.message('code') ?? '', /6-digit code/);
    form.values.code = '000000';
    assert.equal(await form.submit(auth), null);
    assert.match(form.message('code') ?? '', /not right/);
    assert.equal(form.values.code, '', 'a wrong code is cleared for the next one');
    form.values.code = auth.totp!.generate();
    const state = await form.submit(auth);
    assert.ok(state && state !== 'needs-code' && state.signedIn);
  });

  it('takes a recovery code in place of the app code', async () => {
    const auth = new FakeAuth({ signedIn: true });
    await auth.beginTotp({ password: 'correct horse battery' });
    const { recoveryCodes } = await auth.confirmTotp({ code: auth.pendingTotp!.generate() });
    auth.signedIn = false;
    const form = new SignInForm();
    form.values.password = 'correct horse battery';
    await form.submit(auth);
    form.values.code = ` ${recoveryCodes[3]!.toUpperCase()} `;
    const state = await form.submit(auth);
    assert.ok(state && state !== 'needs-code');
    assert.equal(state.recoveryCodesLeft, 9);
  });
});

describe('NewPasswordForm', () => {
  it('wants the minimum length and the same password twice', async () => {
    const auth = new FakeAuth({ password: null, signedIn: true });
    const form = new NewPasswordForm(false);
    form.values.newPassword = 'short';
    form.values.confirm = 'shorter';
    assert.equal(await form.submit(auth), false);
    assert.match(form.message('newPassword') ?? '', /at least 10 characters/);
    assert.match(form.message('confirm') ?? '', /differ/);
    assert.deepEqual(auth.calls, []);
  });

  it('changes the password only with the current one, shown on that field when wrong', async () => {
    const auth = new FakeAuth({ signedIn: true });
    const form = new NewPasswordForm(true);
    form.values = { currentPassword: 'not it', newPassword: 'the next password', confirm: 'the next password' };
    assert.equal(await form.submit(auth), false);
    assert.equal(form.message('currentPassword'), 'That password is not right.');
    form.values.currentPassword = 'correct horse battery';
    form.fieldErrors.edited('currentPassword');
    assert.equal(await form.submit(auth), true);
    assert.equal(auth.password, 'the next password');
    assert.deepEqual(form.values, { currentPassword: '', newPassword: '', confirm: '' });
  });
});

describe('Sign-in & security', () => {
  it('turns two-factor on with the code the app computes from the QR code, and shows 10 recovery codes once', async () => {
    const auth = new FakeAuth({ signedIn: true });
    const { session: s } = session(auth);
    await s.check();
    const flow = new TotpEnrolmentFlow(s);
    await assert.rejects(flow.begin({ password: 'not it' }), /not right/);
    assert.equal(flow.step, 'idle', 'no secret without the password');
    await flow.begin({ password: 'correct horse battery' });
    assert.equal(flow.step, 'scan');
    assert.ok(flow.qr && flow.qr.size >= 21 && flow.qr.modules.length === flow.qr.size ** 2);
    assert.deepEqual(flow.qr, qrCode(flow.enrolment!.uri), 'the page draws the code that came with the enrolment');
    assert.match(groupedSecret(flow.enrolment!.secret), /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    flow.codeForm.values.code = '123';
    assert.equal(await flow.confirm(), false);
    assert.match(flow.codeForm.message('code') ?? '', /6-digit/);
    // What a phone would do: read the secret out of the URI the QR code holds.
    const fromUri = new TOTP({ secret: new URL(flow.enrolment!.uri).searchParams.get('secret')! });
    flow.codeForm.values.code = fromUri.generate().replace(/(\d{3})/, '$1 ');
    assert.equal(await flow.confirm(), true);
    assert.equal(flow.step, 'codes');
    assert.equal(flow.recoveryCodes.length, 10);
    assert.equal(s.state?.totpEnabled, true);
    flow.finish();
    assert.deepEqual(flow.recoveryCodes, [], 'the codes are gone once the person is done');
  });

  it('asks for the password to turn two-factor off or rotate the token', async () => {
    const auth = new FakeAuth({ signedIn: true });
    const form = new PasswordConfirmationForm();
    assert.equal(await form.submit((input) => auth.rotateToken(input)), null);
    assert.equal(form.message('password'), 'enter your password');
    form.values.password = 'guess';
    assert.equal(await form.submit((input) => auth.rotateToken(input)), null);
    assert.equal(form.message('password'), 'That password is not right.');
    form.values.password = 'correct horse battery';
    form.fieldErrors.edited('password');
    assert.deepEqual(await form.submit((input) => auth.rotateToken(input)), { token: 'u'.repeat(43) });
  });

  it('says when the session ends, in words', () => {
    const now = new Date(2026, 11, 6, 10, 0);
    const idle = new Date(2026, 11, 6, 11, 30).getTime();
    const absolute = new Date(2026, 11, 7, 10, 0).getTime();
    const text = sessionEnds({ createdAt: now.getTime(), idleExpiresAt: idle, absoluteExpiresAt: absolute }, now);
    assert.match(text, /^This session ends at 11:30 if it is not used until then, and on .+ at 10:00 at the latest\.$/);
  });
});
