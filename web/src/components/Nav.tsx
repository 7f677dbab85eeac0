import type { Scope } from "../api/access";
import { useScope } from "../hooks/useScope";
import { Link } from "../router/router";

export const ROUTES = [
  { path: "/", label: "Models" },
  { path: "/downloads", label: "Downloads" },
  { path: "/health", label: "Health" },
  { path: "/analytics", label: "Analytics" },
  { path: "/storage", label: "Storage" },
  { path: "/requests", label: "Requests" },
  { path: "/fleet", label: "Fleet" },
  { path: "/settings", label: "Settings" },
  { path: "/audit", label: "Audit", needs: "admin" },
] as const satisfies readonly { path: string; label: string; needs?: Scope }[];

export function Nav({ path }: { path: string }) {
  const { can } = useScope();
  // A view whose every read the token would be refused is not offered (the page itself
  // still explains why when opened by its address).
  const shown = ROUTES.filter((route) => !("needs" in route) || can(route.needs));
  return (
    <nav aria-label="Main" className="nav">
      <ul>
        {shown.map((route) => (
          <li key={route.path}>
            <Link to={route.path} aria-current={route.path === path ? "page" : undefined}>
              {route.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
