// acme-client, loaded on first use. It brings axios, @peculiar/x509, asn1js and tsyringe (about
// 1 MB of JavaScript, ~25 MB of resident memory once compiled), which an idle Gatehouse with no
// ACME route never needs; every caller is already asynchronous, so the first ACME call pays the
// load (tens of ms) instead of every start-up. A failed load (a broken install) rejects that
// call with the import's own error, and the next call tries again.
type AcmeLibrary = typeof import('acme-client');

let loading: Promise<AcmeLibrary> | null = null;

/** The acme-client module's default export, imported once. */
export function loadAcme(): Promise<AcmeLibrary> {
  loading ??= import('acme-client').then(
    (module) => module.default,
    (error: unknown) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}
