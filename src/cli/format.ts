/** Times and durations as the CLI prints them: UTC clock times, short human durations. */

export function clock(iso: string | Date | undefined): string {
  if (iso === undefined) return '';
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(11, 19);
}

export function dateTime(date: Date | undefined): string {
  return date === undefined ? '' : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
