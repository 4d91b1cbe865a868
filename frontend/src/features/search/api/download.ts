import { apiBlob } from '../../../lib/api-client';
import type { DownloadRequest } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/** POST /api/download: the photos as one zip file. */
export function downloadPhotosZip(photoIds: number[], signal?: AbortSignal): Promise<Blob> {
  return apiBlob('/api/download', {
    method: 'POST',
    json: { photo_ids: photoIds } satisfies DownloadRequest,
    accept: 'application/zip',
    signal,
  });
}
