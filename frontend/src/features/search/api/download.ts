import { apiBlob } from '../../../lib/api-client';
import type { DownloadRequest } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/**
 * POST /api/download: the photos as one zip file. `token`: the search's download_token, which a
 * visitor of a private gallery needs to download that search's photos.
 */
export function downloadPhotosZip(photoIds: number[], signal?: AbortSignal, token?: string | null): Promise<Blob> {
  return apiBlob('/api/download', {
    method: 'POST',
    json: { photo_ids: photoIds, token: token ?? null } satisfies DownloadRequest,
    accept: 'application/zip',
    signal,
  });
}
