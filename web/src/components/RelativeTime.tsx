import { formatRelative, formatTime, toDate } from "../format";
import { useNow } from "../hooks/useNow";

/** "3 min ago" / "in 5 min" (the exact time on hover), written again every 30 s;
 * `never` when there is no time. */
export function RelativeTime({ value, never = "never" }: { value: string | number | null | undefined; never?: string }) {
  useNow(); // re-render every 30 s
  const date = toDate(value);
  if (!date) return <>{never}</>;
  return (
    <time dateTime={date.toISOString()} title={formatTime(value)}>
      {formatRelative(value)}
    </time>
  );
}
