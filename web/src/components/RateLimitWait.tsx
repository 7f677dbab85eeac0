import { useEffect, useState } from "react";
import "./RateLimitWait.css";

/** The service's words for a rate-limit wait with `secondsLeft` to go (as the CLI says it). */
export function waitingNote(secondsLeft: number): string {
  const left = Math.ceil(secondsLeft);
  return left > 0 ? `rate-limited by the hub, resuming in ${left} s` : "rate-limited by the hub, resuming now";
}

/**
 * "rate-limited by the hub, resuming in 12 s", counting down each second to `resumeAt`
 * (no progress event arrives while the download waits); nothing once the wait is over or
 * when none stands.
 */
export function RateLimitWait({ waiting, resumeAt }: { waiting?: string | null; resumeAt?: string | null }) {
  const end = waiting && resumeAt ? Date.parse(resumeAt) : Number.NaN;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (Number.isNaN(end)) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [end]);
  if (!waiting) return null;
  if (Number.isNaN(end)) return <p className="rate-limit-wait" role="status">{waiting}</p>;
  if (end <= now) return null;
  return (
    <p className="rate-limit-wait" role="status">
      {waitingNote((end - now) / 1000)}
    </p>
  );
}
