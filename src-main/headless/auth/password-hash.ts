// The hashing lives in core (the sign-in users of routes use it too). The admin sign-in has its own
// queue: guesses at a route's basic auth fill the routes' queue, never this one.
import { PasswordHasher } from '../../core/password-hash.js';

export { MAX_WAITING, PASSWORD_HASH_OPTIONS } from '../../core/password-hash.js';

const adminHasher = new PasswordHasher();

export const hashPassword = (password: string): Promise<string> => adminHasher.hash(password);

export const passwordMatches = (encoded: string, password: string): Promise<boolean> => adminHasher.matches(encoded, password);
