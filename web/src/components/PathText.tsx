import { useEffect, useState } from "react";
import { shortenPath } from "../format";
import "./PathText.css";

/** Copies `text` with the Clipboard API, or (outside a secure context, where that API is
 * missing) through a selected, hidden text area. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // refused (no permission): try the old way below
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.appendChild(area);
  area.select();
  const done = document.execCommand?.("copy") ?? false;
  area.remove();
  return done;
}

/**
 * A local path, shortened in the middle when long (the full path on hover and for screen
 * readers), with a button that copies the full path.
 */
export function PathText({ path, name }: { path: string; name: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  useEffect(() => {
    if (copied === null) return;
    const timer = window.setTimeout(() => setCopied(null), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  const short = shortenPath(path);
  return (
    <span className="path-text">
      <code className="path-text__path" title={path} data-testid="local-path" data-path={path}>
        <span aria-hidden="true">{short}</span>
        <span className="visually-hidden">{path}</span>
      </code>
      <button
        type="button"
        className="path-text__copy"
        aria-label={`Copy ${name}`}
        onClick={async () => setCopied((await copyText(path)) ? "yes" : "no")}
      >
        {copied === "yes" ? "Copied" : copied === "no" ? "Select and copy" : "Copy"}
      </button>
    </span>
  );
}
