import { GastownError } from '../errors.js';
import { findMarker } from '../town/ids.js';

/**
 * The hidden marker a status comment is found by (`<!-- gastown:convoy cv-xxxx -->`). Every
 * adapter refuses a body without one, the null adapter too, so a caller's mistake shows in
 * local mode as it would on a forge.
 */
export function statusMarkerOf(markdown: string): string {
  const marker = findMarker(markdown);
  if (marker === null) throw new GastownError('gastown_bad_input', 'A status comment must start with a gastown marker');
  return marker;
}
