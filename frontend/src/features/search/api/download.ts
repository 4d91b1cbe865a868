import { apiBlob } from '../../../lib/api-client';

export const ZIP_NAME = 'faceexplore-photos.zip';

/** POST /api/download: the photos as one zip file. */
export function downloadPhotosZip(photoIds: number[], signal?: AbortSignal): Promise<Blob> {
  return apiBlob('/api/download', {
    method: 'POST',
    json: { photo_ids: photoIds },
    accept: 'application/zip',
    signal,
  });
}
