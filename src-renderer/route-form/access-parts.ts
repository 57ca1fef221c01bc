// What the access-list and country controls need from a form, so the route form and the stream form
// share them: the lists and country rules being edited, and the messages of those two controls.
import type { CountryRules } from '../../shared/access.js';

export type AccessPartField = 'accessLists' | 'accessCountries';

export interface AccessPartsForm {
  values: { access: { lists: string[]; countries: CountryRules } };
  message(field: AccessPartField): string | null;
  fieldErrors: { edited(field: AccessPartField): void; touch(field: AccessPartField): void };
}
