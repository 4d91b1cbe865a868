import { apiBlob } from '../../../lib/api-client';
import type { DownloadRequest } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/**
 * POST /api/download: the photos as one zip file. `token`: the search's download_token, which a
 * visitor of a private gallery needs (it lists the photos that search found).
 */
export function downloadPhotosZip(photoIds: number[], signal?: AbortSignal, token?: string | null): Promise<Blob> {
  const body: DownloadRequest = { photo_ids: photoIds, token: token ?? null };
  return apiBlob('/api/download', {
    method: 'POST',
    json: body,
    accept: 'application/zip',
    signal,
  });
}
