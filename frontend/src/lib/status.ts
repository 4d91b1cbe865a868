import { apiJson } from './api-client';
import type { StatusResponse } from '../types/api';
import { plural } from './format';

export function getStatus(signal?: AbortSignal) {
  return apiJson<StatusResponse>('/api/status', { signal });
}

/** The line over the search form saying what the search looks through. */
export function describeStatus(status: StatusResponse): string {
  if (!status.indexed) return 'The gallery has not been indexed yet: searches will fail until it is.';
  const photos = `Searching ${plural(status.photos, 'photo')}`;
  // Before the faces are grouped into people, the people count is 0 and means nothing.
  if (!status.clustered) return `${photos} · people not grouped yet`;
  return `${photos} · ${plural(status.people, 'person', 'people')} indexed`;
}
