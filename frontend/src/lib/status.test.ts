import { describe, expect, it } from 'vitest';
import { status } from '../test/fixtures';
import { describeStatus } from './status';

describe('describeStatus', () => {
  it('counts photos and people once the gallery is indexed and clustered', () => {
    expect(describeStatus(status)).toBe('Searching 30 photos · 12 people indexed');
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
    };
    expect(describeStatus(empty)).toMatch(/not been indexed yet/);
  });
});
