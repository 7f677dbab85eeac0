import "./BarChart.css";

export interface Bar {
  label: string;
  value: number;
  /** The value as written over the bar; defaults to the value as the axis writes it. */
  text?: string;
  /** A longer account, on hover and in the table; defaults to the text. */
  detail?: string;
  highlight?: boolean;
}

const MIN_SLOTS = 6;
/** Past this many bars a value is written only over bars that are drawn (not over zeros). */
const DENSE = 12;

/** An axis from 0 to a round top with 3 to 5 ticks in round steps (1, 2, 2.5, 5 × 10^k). */
export function axisTicks(top: number, { integer = false, minTop = 1 } = {}): number[] {
  const reach = top > 0 ? top : minTop;
  const rough = reach / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  if (integer) step = Math.max(1, Math.ceil(step));
  const count = Math.max(1, Math.ceil(reach / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** Tick values with as many decimals as the step needs (0.25 → 2, 20 → 0). */
function stepFormat(ticks: number[]): (value: number) => string {
  const step = ticks.length > 1 ? ticks[1] : 1;
  const decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  return (v) => String(Number(v.toFixed(decimals + 1)));
}

/**
 * A bar chart with a y-axis (ticks, their values and the unit) and each bar's value written
 * over it. A zero draws no bar. The numbers are also in a visually hidden table for screen
 * readers (the drawing itself is hidden from them). HTML and CSS, so text never stretches.
 */
export function BarChart({
  title,
  bars,
  unit,
  valueHeader = "Value",
  max,
  integer = false,
  tickFormat,
}: {
  title: string;
  bars: Bar[];
  /** What the y-axis counts ("jobs", "seconds", "% succeeded"). */
  unit: string;
  valueHeader?: string;
  /** The top of the axis at least (1 for a share). */
  max?: number;
  /** Counts: ticks on whole numbers. */
  integer?: boolean;
  tickFormat?: (value: number) => string;
}) {
  const highest = Math.max(max ?? 0, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 0);
  const ticks = axisTicks(highest, { integer });
  const top = ticks[ticks.length - 1];
  const formatTick = tickFormat ?? stepFormat(ticks);
  const slots = Math.max(bars.length, MIN_SLOTS);
  const columns = { gridTemplateColumns: `repeat(${slots}, minmax(0, 1fr))` };
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  const dense = bars.length > DENSE;
  const pct = (v: number) => `${Math.min(100, (v / top) * 100)}%`;
  return (
    <figure className="bar-chart">
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? (
        <p className="muted">No data for this period.</p>
      ) : (
        <>
          <div className="bar-chart__body" aria-hidden="true">
            <span className="bar-chart__unit">{unit}</span>
            <div className="bar-chart__yaxis">
              {ticks.map((t) => (
                <span key={t} className="bar-chart__tick" style={{ bottom: pct(t) }}>
                  {formatTick(t)}
                </span>
              ))}
            </div>
            <div className="bar-chart__plot">
              {ticks.map((t) => (
                <span key={t} className="bar-chart__gridline" style={{ bottom: pct(t) }} />
              ))}
              <div className="bar-chart__bars" style={columns}>
                {bars.map((bar, i) => {
                  const drawn = Number.isFinite(bar.value) && bar.value > 0;
                  const text = bar.text ?? formatTick(bar.value);
                  return (
                    <div key={`${bar.label}-${i}`} className="bar-chart__slot" title={`${bar.label}: ${bar.detail ?? text}`}>
                      {drawn ? (
                        <div
                          className={bar.highlight ? "bar-chart__bar bar-chart__bar--hl" : "bar-chart__bar"}
                          style={{ height: pct(bar.value) }}
                          data-value={bar.value}
                        >
                          <span className={dense ? "bar-chart__value bar-chart__value--dense" : "bar-chart__value"}>
                            {text}
                          </span>
                        </div>
                      ) : dense ? null : (
                        <span className="bar-chart__value bar-chart__value--zero">{text}</span>
                      )}
                    </div>
                  );
                })}
              </div>
            </div>
            <div className="bar-chart__labels" style={columns}>
              {bars.map((bar, i) =>
                // With many bars every n-th is labelled, counting back from the latest; its
                // label ends under its bar and takes the room of the n - 1 before it.
                (bars.length - 1 - i) % labelEvery === 0 && i + 1 >= Math.min(labelEvery, bars.length) ? (
                  <span
                    key={`${bar.label}-${i}`}
                    title={bar.label}
                    style={{ gridColumn: `${Math.max(1, i + 2 - labelEvery)} / ${i + 2}` }}
                    className={labelEvery > 1 ? "bar-chart__label--wide" : undefined}
                  >
                    {bar.label}
                  </span>
                ) : null,
              )}
            </div>
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
                  <td>{bar.detail ?? bar.text ?? formatTick(bar.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </figure>
  );
}
