import "./BarChart.css";

export interface Bar {
  label: string;
  value: number;
  /** Shown on hover and in the table; defaults to the value. */
  text?: string;
  highlight?: boolean;
}

const MIN_SLOTS = 6;
const HEIGHT = 100;

/** A small SVG bar chart; the numbers are also in a visually hidden table for screen
 * readers (the drawing itself is hidden from them). Labels are HTML so they never stretch. */
export function BarChart({
  title,
  bars,
  valueHeader = "Value",
  max,
}: {
  title: string;
  bars: Bar[];
  valueHeader?: string;
  max?: number;
}) {
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value), 0);
  const slots = Math.max(bars.length, MIN_SLOTS);
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  return (
    <figure className="bar-chart">
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? (
        <p className="muted">No data for this period.</p>
      ) : (
        <>
          <svg viewBox={`0 0 ${slots} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <line x1={0} x2={slots} y1={HEIGHT} y2={HEIGHT} className="bar-chart__axis" vectorEffect="non-scaling-stroke" />
            {bars.map((bar, i) => {
              const h = top > 0 ? (bar.value / top) * (HEIGHT - 2) : 0;
              return (
                <rect
                  key={`${bar.label}-${i}`}
                  x={i + 0.15}
                  y={HEIGHT - h}
                  width={0.7}
                  height={h}
                  className={bar.highlight ? "bar-chart__bar bar-chart__bar--hl" : "bar-chart__bar"}
                >
                  <title>{`${bar.label}: ${bar.text ?? bar.value}`}</title>
                </rect>
              );
            })}
          </svg>
          <div className="bar-chart__labels" style={{ gridTemplateColumns: `repeat(${slots}, minmax(0, 1fr))` }} aria-hidden="true">
            {bars.map((bar, i) => (
              <span key={`${bar.label}-${i}`}>{i % labelEvery === 0 ? bar.label : ""}</span>
            ))}
          </div>
          <table className="visually-hidden">
            <caption>{title}</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">{valueHeader}</th>
              </tr>
            </thead>
            <tbody>
              {bars.map((bar, i) => (
                <tr key={`${bar.label}-${i}`}>
                  <th scope="row">{bar.label}</th>
                  <td>{bar.text ?? bar.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </figure>
  );
}
