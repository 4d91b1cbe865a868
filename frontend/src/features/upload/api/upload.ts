import { apiUpload, type UploadProgress } from '../../../lib/api-client';
import type { UploadResult } from '../../../types/api';

/**
 * POST /api/gallery/photos (organiser, with the CSRF token): photos into the gallery's upload
 * folder, where a running watcher indexes them. Each file is answered on its own (saved path or
 * error); throws ApiError when the whole request is refused (login_required, csrf_failed,
 * uploads_off, gallery_read_only, too_large...).
 */
export function uploadPhotos(
  files: File[],
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<UploadResult> {
  const form = new FormData();
  for (const file of files) form.append('photos', file, file.name);
  return apiUpload<UploadResult>('/api/gallery/photos', form, onProgress, signal);
}
