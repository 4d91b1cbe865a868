import { apiJson } from '../../../lib/api-client';
import type { ConfirmRequest, ConfirmResponse, SearchResponse } from '../../../types/api';

/** A face choice per sample: the face index, or null for automatic (the largest face). */
export type FaceChoice = number | null;

/**
 * POST /api/search with the sample photos. `faces` is sent only when at least one sample has an
 * explicit choice; then there is one `faces` field per image, "" meaning automatic.
 */
export function searchPhotos(
  files: File[],
  faces?: FaceChoice[],
  signal?: AbortSignal,
): Promise<SearchResponse> {
  const form = new FormData();
  for (const file of files) form.append('images', file, file.name);
  if (faces && faces.some((c) => c !== null && c !== undefined)) {
    files.forEach((_, i) => {
      const c = faces[i];
      form.append('faces', c === null || c === undefined ? '' : String(c));
    });
  }
  return apiJson<SearchResponse>('/api/search', { method: 'POST', body: form, signal });
}

/**
 * POST /api/search/confirm: the photos of a person the search only suggested (a candidate or an
 * also_you face), answered exactly like a found search. Throws ApiError `expired_token` (410)
 * when the token is too old and `invalid_token` (400) when it is not one the server signed.
 */
export function confirmCandidate(token: string, signal?: AbortSignal): Promise<ConfirmResponse> {
  return apiJson<ConfirmResponse>('/api/search/confirm', {
    method: 'POST',
    json: { token } satisfies ConfirmRequest,
    signal,
  });
}
