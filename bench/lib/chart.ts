// A small SVG writer for the benchmarks' charts: panels of horizontal bars, each panel with its own scale
// (requests per CPU-second and a ratio do not share an axis), an optional target line, and the figure written
// beside each bar. Hand-written SVG, no dependency, so a reader of bench/results sees the comparison at a glance.

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** the text beside the bar; the value, rounded, when absent */
  readonly text?: string;
  /** a second colour for a baseline (nginx, a bare server, a reference) */
  readonly baseline?: boolean;
}

export interface Panel {
  readonly title: string;
  readonly bars: readonly Bar[];
  /** a vertical line at this value, labelled (a target from the issue) */
  readonly target?: { readonly value: number; readonly label: string };
}

export interface Chart {
  readonly title: string;
  /** one line under the title: the machine, the date, what was measured */
  readonly subtitle?: string;
  readonly panels: readonly Panel[];
}

const WIDTH = 820;
const LABEL_W = 270;
const TEXT_W = 110;
const BAR_H = 18;
const GAP = 6;
const COLOURS = { bar: '#3b6ea8', baseline: '#b0b7c0', target: '#c0392b', text: '#222', muted: '#666' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A value as the chart writes it: thousands grouped, small numbers with their decimals. */
export function figure(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function svgChart(chart: Chart): string {
  const out: string[] = [];
  let y = 28;
  out.push(`<text x="12" y="${y}" font-size="16" font-weight="bold" fill="${COLOURS.text}">${escape(chart.title)}</text>`);
  if (chart.subtitle) {
    y += 18;
    out.push(`<text x="12" y="${y}" font-size="11" fill="${COLOURS.muted}">${escape(chart.subtitle)}</text>`);
  }
  y += 14;
  const plotW = WIDTH - LABEL_W - TEXT_W - 12;
  for (const panel of chart.panels) {
    y += 22;
    out.push(`<text x="12" y="${y}" font-size="13" font-weight="bold" fill="${COLOURS.text}">${escape(panel.title)}</text>`);
    y += 8;
    const finite = panel.bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
    const top = Math.max(...finite, panel.target?.value ?? 0, 1e-9) * 1.05;
    const scale = (v: number) => (Number.isFinite(v) && v > 0 ? (v / top) * plotW : 0);
    const panelTop = y;
    for (const bar of panel.bars) {
      const w = scale(bar.value);
      out.push(
        `<text x="${LABEL_W - 8}" y="${y + BAR_H - 5}" font-size="12" text-anchor="end" fill="${COLOURS.text}">${escape(bar.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${bar.baseline ? COLOURS.baseline : COLOURS.bar}"/>`,
        `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H - 5}" font-size="12" fill="${COLOURS.text}">${escape(bar.text ?? figure(bar.value))}</text>`,
      );
      y += BAR_H + GAP;
    }
    if (panel.target) {
      const x = (LABEL_W + scale(panel.target.value)).toFixed(1);
      out.push(
        `<line x1="${x}" y1="${panelTop - 4}" x2="${x}" y2="${y - GAP + 4}" stroke="${COLOURS.target}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
        `<text x="${x}" y="${y + 10}" font-size="11" text-anchor="middle" fill="${COLOURS.target}">${escape(panel.target.label)}</text>`,
      );
      y += 12;
    }
  }
  y += 16;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${out.join('\n')}\n</svg>\n`
  );
}
