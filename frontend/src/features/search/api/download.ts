import { apiJson } from '../../../lib/api-client';
import type { DownloadLinksRequest, DownloadLinksResponse } from '../../../types/api';

export const ZIP_NAME = 'faceexplore-photos.zip';

/**
 * POST /api/download/links: one link per zip (the server splits a large choice into parts). Each
 * link is a plain GET that the browser saves to disk itself, showing its own progress, so no zip
 * is ever held in the page's memory. `token`: the search's download_token, which a visitor of a
 * private gallery needs (it lists the photos that search found).
 */
export function downloadLinks(
  photoIds: number[],
  signal?: AbortSignal,
  token?: string | null,
): Promise<DownloadLinksResponse> {
  const body: DownloadLinksRequest = { photo_ids: photoIds, token: token ?? null };
  return apiJson<DownloadLinksResponse>('/api/download/links', {
    method: 'POST',
    json: body,
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
