// Hand-written SVG charts (no charting dependency): horizontal bars on a log scale, and a line
// chart. Plain string templates; fonts and colours chosen to read well on GitHub light and dark.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"'
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#65a30d', '#db2777']

function fmtValue(v, unit) {
  if (unit === 'ns') return v >= 1e6 ? `${(v / 1e6).toFixed(1)} ms` : v >= 1e4 ? `${(v / 1e3).toFixed(1)} µs` : v >= 1e3 ? `${(v / 1e3).toFixed(2)} µs` : `${v.toFixed(0)} ns`
  if (unit === 'ops/s') return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(0)} k/s`
  return `${+v.toPrecision(3)} ${unit ?? ''}`.trim()
}

/** bars: [{ label, value, highlight }]; log10 x axis from the decade below the smallest value. */
export function hbarLog({ title, unit, bars }) {
  const labelW = 300, plotW = 440, rowH = 26, top = 44, W = labelW + plotW + 110
  const H = top + bars.length * rowH + 40
  const lo = Math.floor(Math.log10(Math.min(...bars.map((b) => b.value))))
  const hi = Math.ceil(Math.log10(Math.max(...bars.map((b) => b.value))))
  const x = (v) => labelW + ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotW
  const grid = []
  for (let d = lo; d <= hi; d++) {
    grid.push(`<line x1="${x(10 ** d)}" y1="${top - 6}" x2="${x(10 ** d)}" y2="${H - 34}" stroke="#9ca3af" stroke-opacity="0.4"/>`)
    grid.push(`<text x="${x(10 ** d)}" y="${H - 18}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(fmtValue(10 ** d, unit))}</text>`)
  }
  const rows = bars.map((b, i) => {
    const y = top + i * rowH
    const color = b.highlight ? '#2563eb' : '#9ca3af'
    return `<text x="${labelW - 8}" y="${y + 16}" font-size="12" text-anchor="end" fill="#374151">${esc(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(b.value) - labelW)}" height="${rowH - 8}" rx="2" fill="${color}"/>` +
      `<text x="${x(b.value) + 6}" y="${y + 16}" font-size="12" fill="#374151">${esc(fmtValue(b.value, unit))}</text>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT}>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="24" font-size="15" font-weight="600" fill="#111827">${esc(title)}</text>
${grid.join('\n')}
${rows.join('\n')}
</svg>
`
}

/** 1, 2 or 5 × a power of ten, the smallest such step ≥ raw. */
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw)
}

/** series: [{ label, points: [[x, y]], dashed }]; linear axes from 0; an optional ideal line. */
export function lineChart({ title, xLabel, yLabel, unit, series, ideal }) {
  const left = 80, top = 44, plotW = 440, plotH = 280, legendW = 400
  const W = left + plotW + legendW, H = top + plotH + 56
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const xMax = Math.max(...xs), xMin = Math.min(...xs)
  const yMax = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), ...(ideal ?? []).map((p) => p[1]))
  const step = niceStep(yMax / 5)
  const yTop = Math.ceil((yMax * 1.05) / step) * step
  const X = (v) => left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW)
  const Y = (v) => top + plotH - (v / yTop) * plotH
  const parts = []
  for (let v = 0; v <= yTop + step / 2; v += step) {
    parts.push(`<line x1="${left}" y1="${Y(v)}" x2="${left + plotW}" y2="${Y(v)}" stroke="#9ca3af" stroke-opacity="0.35"/>`)
    parts.push(`<text x="${left - 6}" y="${Y(v) + 4}" font-size="11" text-anchor="end" fill="#6b7280">${esc(fmtValue(v, unit))}</text>`)
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${X(v)}" y="${top + plotH + 18}" font-size="11" text-anchor="middle" fill="#6b7280">${v}</text>`)
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" font-size="12" text-anchor="middle" fill="#374151">${esc(xLabel)}</text>`)
  parts.push(`<text x="16" y="${top + plotH / 2}" font-size="12" text-anchor="middle" fill="#374151" transform="rotate(-90 16 ${top + plotH / 2})">${esc(yLabel)}</text>`)
  const all = ideal ? [{ label: 'ideal (linear in threads)', points: ideal, dashed: true, color: '#9ca3af' }, ...series] : series
  all.forEach((s, i) => {
    const color = s.color ?? PALETTE[(i - (ideal ? 1 : 0)) % PALETTE.length]
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    for (const p of s.points) parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3.5" fill="${color}"/>`)
    const ly = top + 10 + i * 20
    parts.push(`<line x1="${left + plotW + 20}" y1="${ly}" x2="${left + plotW + 44}" y2="${ly}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    parts.push(`<text x="${left + plotW + 50}" y="${ly + 4}" font-size="12" fill="#374151">${esc(s.label)}</text>`)
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT}>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="24" font-size="15" font-weight="600" fill="#111827">${esc(title)}</text>
<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#6b7280"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#6b7280"/>
${parts.join('\n')}
</svg>
`
}

export function renderChart(spec) {
  if (spec.type === 'hbar-log') return hbarLog(spec)
  if (spec.type === 'line') return lineChart(spec)
  throw new Error(`unknown chart type ${spec.type}`)
}
