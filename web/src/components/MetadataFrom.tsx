/**
 * "files and checksums from the mirror s3://team/hf (the Hub: unreachable)": where a
 * download's metadata came from when it was not the Hub (the service sends null for the Hub).
 */
export function MetadataFrom({ from }: { from?: string | null }) {
  if (!from) return null;
  return <p className="muted small metadata-from">files and checksums from {from}</p>;
}
