// The hashing lives in core (the sign-in users of routes use it too); the admin sign-in imports it here.
export { hashPassword, MAX_WAITING, passwordMatches, PASSWORD_HASH_OPTIONS } from '../../core/password-hash.js';
