// Process measurements read from Linux's /proc: peak resident memory (VmHWM), current RSS and CPU
// time of a process. Elsewhere they are reported as null rather than guessed.
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident set size of the process so far, in bytes. */
export function peakRssBytes(pid: number): number | null {
  return statusField(pid, 'VmHWM');
}

export function rssBytes(pid: number): number | null {
  return statusField(pid, 'VmRSS');
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}
