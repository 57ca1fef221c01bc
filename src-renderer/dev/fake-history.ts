// The fake Gatehouse's history members (issue 17 foundation placeholder): what the screenshots and
// renderer tests see. Replaced by a fake that keeps state like the real one.
import { ApiError } from '../../shared/api.js';

export class FakeHistory {
  notYet(): never {
    throw new ApiError('internal', 'This part of Gatehouse is not built yet.');
  }
}
