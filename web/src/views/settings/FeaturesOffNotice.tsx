import { Link } from "../../router/router";
import { featureName } from "./features";

/** One line naming the enhancements switched off; nothing when all are on. */
export function FeaturesOffNotice({ off }: { off: readonly string[] | undefined }) {
  if (!off || off.length === 0) return null;
  return (
    <p className="notice features-off" data-testid="features-off">
      <strong>Features off:</strong> {off.map(featureName).join(", ")} (see <Link to="/settings">Settings</Link>)
    </p>
  );
}
