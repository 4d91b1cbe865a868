import { apiJson } from '../../../lib/api-client';
import { plural } from '../../../lib/format';
import type { components } from '../../../types/openapi.gen';

type Schemas = components['schemas'];
export type RemovalAccepted = Schemas['RemovalAccepted'];
export type SavedLink = Schemas['SavedLink'];
export type SavedSearchResponse = Schemas['SavedSearchResponse'];

/** POST /api/removals: "Remove me", with a found answer's removal_token. */
export function removeMe(token: string, signal?: AbortSignal): Promise<RemovalAccepted> {
  return apiJson<RemovalAccepted>('/api/removals', { method: 'POST', json: { token }, signal });
}

/** POST /api/saved: keep a found search under a random link ("My photos"). */
export function saveSearch(token: string, signal?: AbortSignal): Promise<SavedLink> {
  return apiJson<SavedLink>('/api/saved', { method: 'POST', json: { token }, signal });
}

/** GET /api/saved/<id>: the saved search run again over the gallery as it is now. */
export function openSaved(id: string, signal?: AbortSignal): Promise<SavedSearchResponse> {
  return apiJson<SavedSearchResponse>(`/api/saved/${encodeURIComponent(id)}`, { signal });
}

/** DELETE /api/saved/<id>: forget it. */
export function deleteSaved(id: string, signal?: AbortSignal): Promise<unknown> {
  return apiJson<unknown>(`/api/saved/${encodeURIComponent(id)}`, { method: 'DELETE', signal });
}

/** The saved search's id when the page was opened at /me/<id>, else null. */
export function savedIdFromPath(pathname: string): string | null {
  const m = /^\/me\/([A-Za-z0-9_-]{16,64})\/?$/.exec(pathname);
  return m ? m[1] : null;
}

/** "N new photos since your last visit" */
export function newSinceText(n: number): string {
  return n === 0 ? 'Nothing new since your last visit' : `${plural(n, 'new photo')} since your last visit`;
}

export type Removal = Schemas['Removal'];

/** GET /api/removals (organiser): visitors' removals, newest first. */
export function getRemovals(signal?: AbortSignal): Promise<Schemas['Removals']> {
  return apiJson<Schemas['Removals']>('/api/removals', { signal });
}

/** POST /api/removals/<id>/<action> (organiser): undo a mistake, or confirm / refuse one under review. */
export function changeRemoval(id: number, action: 'undo' | 'confirm' | 'refuse'): Promise<Removal> {
  return apiJson<Removal>(`/api/removals/${id}/${action}`, { method: 'POST' });
}
