import { apiBlob } from '../../../lib/api-client';
import type { DownloadRequest } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/** The name of the i-th zip of one download: faceexplore-photos.zip, then faceexplore-photos-2.zip... */
export function zipName(i: number): string {
  return i === 0 ? ZIP_NAME : ZIP_NAME.replace(/\.zip$/, `-${i + 1}.zip`);
}

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
