import { apiJson } from './api-client';
import type { LiveState, StatusResponse } from '../types/api';
import { plural } from './format';

export function getStatus(signal?: AbortSignal) {
  return apiJson<StatusResponse>('/api/status', { signal });
}

/** The line over the search form saying what the search looks through. */
export function describeStatus(status: StatusResponse): string {
  // Plain words for visitors: "indexed" is the organiser's jargon.
  if (!status.indexed) return 'The gallery is not ready yet: searching will work once its photos have been read.';
  const photos = `Searching ${plural(status.photos, 'photo')}`;
  // Before the faces are grouped into people, the people count is 0 and means nothing.
  if (!status.clustered) return `${photos} · people not grouped yet`;
  return `${photos} · ${plural(status.people, 'person', 'people')}`;
}

/** "just now", "2 min ago", "3 h ago", "2 days ago" for an ISO time; null for none. */
export function timeAgo(iso: string | null | undefined, now: number = Date.now()): string | null {
  if (!iso) return null;
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return null;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/**
 * The search page's line about photos arriving while the event runs, or null when no watcher
 * is running: "Photos are being added: 12 waiting · last added 2 min ago".
 */
export function describeLive(live: LiveState | null | undefined, now: number = Date.now()): string | null {
  if (!live?.watching) return null;
  const last = timeAgo(live.last_indexed_at, now);
  const parts = [live.adding > 0 ? `Photos are being added: ${live.adding} waiting` : 'New photos are added as they arrive'];
  if (last) parts.push(`last added ${last}`);
  return parts.join(' · ');
}

/** How often the page asks for the status: often while a watcher runs, seldom otherwise. */
export const LIVE_POLL_MS = 10_000;
export const IDLE_POLL_MS = 60_000;
