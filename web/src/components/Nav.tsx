import { Link } from "../router/router";

export const ROUTES = [
  { path: "/", label: "Models" },
  { path: "/downloads", label: "Downloads" },
  { path: "/health", label: "Health" },
  { path: "/analytics", label: "Analytics" },
  { path: "/storage", label: "Storage" },
  { path: "/requests", label: "Requests" },
  { path: "/settings", label: "Settings" },
  { path: "/audit", label: "Audit" },
] as const;

export function Nav({ path }: { path: string }) {
  return (
    <nav aria-label="Main" className="nav">
      <ul>
        {ROUTES.map((route) => (
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
