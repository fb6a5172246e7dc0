// Durations in campaign options are written the way people write them ("30s", "15m", "72h", "2d").
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds in a duration such as "30s" or 1500; throws on anything else. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration ${value}`);
    return value;
  }
  const match = PATTERN.exec(value.trim());
  if (!match?.[1] || !match[2]) {
    throw new Error(`invalid duration "${value}": use a number and a unit, e.g. 30s, 15m, 72h, 2d`);
  }
  return Math.round(Number(match[1]) * (UNITS[match[2]] ?? 1));
}

export function isDuration(value: string | number): boolean {
  try {
    durationMs(value);
    return true;
  } catch {
    return false;
  }
}
