import "./ProgressBar.css";

/** A model's download progress; `percent` is 0..100. */
export function ProgressBar({
  modelId,
  percent,
  detail,
  paused = false,
}: {
  modelId: string;
  percent: number;
  detail?: string;
  paused?: boolean;
}) {
  const value = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
  return (
    <div
      className={`progress${paused ? " progress--paused" : ""}`}
      role="progressbar"
      aria-label={`download progress ${modelId}`}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={detail ? `${value}% (${detail})` : `${value}%`}
    >
      <div className="progress__fill" style={{ width: `${value}%` }} />
      <span className="progress__label" aria-hidden="true">
        {value}%
      </span>
    </div>
  );
}
