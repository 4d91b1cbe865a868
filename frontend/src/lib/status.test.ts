import { describe, expect, it } from 'vitest';
import { liveNow, status, visitorLive as liveAsVisitorSees } from '../test/fixtures';
import { describeLive, describeStatus, timeAgo } from './status';
import type { LiveState } from '../types/api';

describe('describeStatus', () => {
  it('counts photos and people once the gallery is indexed and clustered', () => {
    expect(describeStatus(status)).toBe('Searching 30 photos · 12 people');
  });

  it('does not count people before the faces are grouped', () => {
    expect(describeStatus({ ...status, people: 0, clustered: false })).toBe('Searching 30 photos · people not grouped yet');
  });

  it('says when there is no index at all (what the API sends then)', () => {
    const empty = {
      photos: 0,
      faces: 0,
      people: 0,
      model: null,
      threshold: null,
      threshold_method: null,
      last_indexed: null,
      search_threshold: null,
      false_alarm_rate: 0.01,
      indexed: false,
      errors: 0,
      clustered: false,
      live: null,
      uploads: null,
      search_closed: false,
    };
    expect(describeStatus(empty)).toBe('The gallery is not ready yet: searching will work once its photos have been read.');
  });

  it('speaks no "index" jargon to visitors, whatever the state', () => {
    for (const s of [status, { ...status, clustered: false }, { ...status, indexed: false }]) {
      expect(describeStatus(s)).not.toMatch(/index/i);
    }
  });
});

const NOW = liveNow;
const visitorLive: LiveState = { ...liveAsVisitorSees, adding: 12, last_indexed_at: '2026-12-02T14:58:00Z' };

describe('describeLive', () => {
  it('says photos are being added, how many, and when the last became searchable', () => {
    expect(describeLive(visitorLive, NOW)).toBe('Photos are being added: 12 waiting · last added 2 min ago');
  });

  it('says new photos come as they arrive when none is waiting', () => {
    expect(describeLive({ ...visitorLive, adding: 0, last_indexed_at: null }, NOW)).toBe('New photos are added as they arrive');
  });

  it('says nothing without a running watcher', () => {
    expect(describeLive(null, NOW)).toBeNull();
    expect(describeLive({ ...visitorLive, watching: false }, NOW)).toBeNull();
  });
});

describe('timeAgo', () => {
  it.each([
    ['2026-12-02T14:59:30Z', 'just now'],
    ['2026-12-02T14:55:00Z', '5 min ago'],
    ['2026-12-02T12:00:00Z', '3 h ago'],
    ['2026-11-28T15:00:00Z', '4 days ago'],
    ['2026-12-02T15:00:30Z', 'just now'], // a server clock a little ahead
  ])('%s -> %s', (iso, words) => expect(timeAgo(iso, NOW)).toBe(words));

  it('is null for no time or a bad one', () => {
    expect(timeAgo(null, NOW)).toBeNull();
    expect(timeAgo('soon', NOW)).toBeNull();
  });
});
