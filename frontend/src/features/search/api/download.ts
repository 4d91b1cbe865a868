import { apiJson } from '../../../lib/api-client';
import type { DownloadLinksRequest, DownloadLinksResponse } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/**
 * POST /api/download/links: one link per zip (the server splits a large choice into parts). Each
 * link is a plain GET that the browser saves to disk itself, showing its own progress, so no zip
 * is ever held in the page's memory.
 */
export function downloadLinks(photoIds: number[], signal?: AbortSignal): Promise<DownloadLinksResponse> {
  return apiJson<DownloadLinksResponse>('/api/download/links', {
    method: 'POST',
    json: { photo_ids: photoIds } satisfies DownloadLinksRequest,
    signal,
  });
}

/** Start the browser's own download of a link (a same-site attachment: the page stays). */
export function startDownload(url: string, filename: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
