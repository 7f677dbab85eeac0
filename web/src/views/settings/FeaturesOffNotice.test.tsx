import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FeaturesOffNotice } from "./FeaturesOffNotice";

describe("FeaturesOffNotice", () => {
  it("names the features switched off in people's words, and links to the settings", () => {
    render(<FeaturesOffNotice off={["retries", "mock_fallback", "something_new"]} />);
    const notice = screen.getByTestId("features-off");
    expect(notice).toHaveTextContent("Features off: Retries, Mock fallback, something_new");
    expect(screen.getByRole("link", { name: "Settings" })).toHaveAttribute("href", "/settings");
  });

  it("says nothing when every feature is on", () => {
    const { container } = render(<FeaturesOffNotice off={[]} />);
    expect(container).toBeEmptyDOMElement();
  });
});
