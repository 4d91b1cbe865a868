/**
 * Whether the main pointer is a finger (a phone or tablet): there the page says "tap" and
 * offers no drag and drop. Read once per render; a device does not change its screen mid-visit.
 */
export function hasTouchScreen(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(pointer: coarse)').matches;
}
