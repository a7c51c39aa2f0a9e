/** Small HTML helpers for the run report: escaping and number formatting. */

/** Text made safe inside HTML elements and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A number with thousands separators and exactly `digits` decimals (so a table column lines up); '–' for NaN or ±Infinity. */
export function formatNumber(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A number with about `significant` significant digits (statistics of unknown scale). */
export function formatValue(n: number, significant = 4): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? '–' : n > 0 ? '∞' : '−∞';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1e6 || abs < 1e-3) return n.toExponential(significant - 1);
  return String(Number(n.toPrecision(significant)));
}

/** A table; `cells` are HTML already escaped. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], rowClass: (i: number) => string = () => ''): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const trs = rows.map((r, i) => {
    const cls = rowClass(i);
    return `<tr${cls ? ` class="${cls}"` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const thead = head.some((h) => h !== '') ? `<thead><tr>${th}</tr></thead>\n` : '';
  return `<table>\n${thead}<tbody>\n${trs.join('\n')}\n</tbody>\n</table>`;
}
