/** 0.973 -> "97%" */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${Math.round(Math.max(0, Math.min(1, value)) * 100)}%`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "may_be_two_people" -> "May be two people" */
export function humanizeFlag(flag: string): string {
  const s = flag.replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/**
 * A match confidence for a visitor: a percentage that never reaches certainty (0.999 -> "99%"),
 * because a face search can always be wrong and "100%" would claim otherwise.
 */
export function confidencePercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${Math.min(99, Math.round(Math.max(0, Math.min(1, value)) * 100))}%`;
}

/** A confidence in words: "very likely" / "likely" / "possibly". */
export function confidenceBand(value: number): 'very likely' | 'likely' | 'possibly' {
  if (value >= 0.95) return 'very likely';
  if (value >= 0.8) return 'likely';
  return 'possibly';
}
