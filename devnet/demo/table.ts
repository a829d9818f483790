/** The demo's closing table: one row per strategy, columns padded for a terminal or a file. */

export interface RunRow {
  strategy: string;
  result: string;
  wallSeconds?: number;
  missed: string;
  doubleSigns?: number;
  historyEvents?: number;
}

const columns: [header: string, cell: (r: RunRow) => string][] = [
  ['strategy', (r) => r.strategy],
  ['result', (r) => r.result],
  ['wall time', (r) => (r.wallSeconds === undefined ? '-' : `${r.wallSeconds.toFixed(1)} s`)],
  ['missed blocks/chunks (NEAR) or slots (Polkadot)', (r) => r.missed],
  ['double signs', (r) => (r.doubleSigns === undefined ? '-' : String(r.doubleSigns))],
  ['history events', (r) => (r.historyEvents === undefined ? '-' : String(r.historyEvents))],
];

export function formatTable(rows: RunRow[]): string {
  const cells = [columns.map(([header]) => header), ...rows.map((r) => columns.map(([, cell]) => cell(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}
