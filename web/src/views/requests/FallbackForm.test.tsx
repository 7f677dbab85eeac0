import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { apiError, mockFetch } from "../../test/fakes";
import { model } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { FallbackForm } from "./FallbackForm";

const strategy = {
  strategy_type: "alternative_model",
  recommended_action: "use ti2v-5b now",
  alternative_model: "ti2v-5b",
  estimated_wait_time: null,
  user_message: "t2v-a14b is not downloaded; ti2v-5b can do this job now.",
  can_queue_request: true,
  wait: null,
  suggestion: null,
  changes: ["resolution 1280x704"],
  steps: ["use ti2v-5b", "download t2v-a14b later"],
};

const catalog = { data: [model("t2v-a14b"), model("ti2v-5b")], count: 2 };

async function ask() {
  const user = userEvent.setup();
  renderWithProviders(<FallbackForm />);
  const form = await screen.findByRole("form", { name: "What can I use for this job?" });
  await waitFor(() => expect(within(form).getByLabelText("Model")).toHaveValue("t2v-a14b"));
  await user.selectOptions(within(form).getByLabelText("Inputs"), "both");
  await user.selectOptions(within(form).getByLabelText("Quality"), "medium");
  await user.selectOptions(within(form).getByLabelText("Speed"), "fast");
  await user.type(within(form).getByLabelText("GPU memory (GB)"), "24");
  await user.click(within(form).getByRole("button", { name: "Ask" }));
  return screen.findByRole("region", { name: "Fallback strategy" });
}

describe("FallbackForm", () => {
  it("shows the strategy and the alternative", async () => {
    const api = mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/strategy": strategy,
      "GET /api/v1/models/t2v-a14b/alternative": {
        suggested_model: "ti2v-5b",
        compatibility_score: 0.82,
        performance_difference: 0.4,
        availability_status: "available",
        reason: "ready now; lower resolution",
        estimated_quality_difference: "slightly_lower",
        needs: [],
      },
    });
    const region = await ask();
    // People's words, never the service's codes.
    expect(within(region).getByTestId("strategy-type")).toHaveTextContent("Use another model");
    expect(within(region).getByTestId("strategy-type")).toHaveAttribute("data-strategy", "alternative_model");
    expect(region).not.toHaveTextContent(/alternative_model|slightly_lower/);
    expect(region).toHaveTextContent("use ti2v-5b now");
    expect(region).toHaveTextContent("t2v-a14b is not downloaded; ti2v-5b can do this job now.");
    expect(region).toHaveTextContent("resolution 1280x704");
    expect(region).toHaveTextContent("download t2v-a14b later");
    expect(within(region).getByTestId("compatibility")).toHaveTextContent("82%");
    expect(region).toHaveTextContent("Slightly lower quality");
    expect(region).toHaveTextContent("ti2v-5b (available)");
    expect(region).toHaveTextContent("faster (+40%)");
    expect(region).toHaveTextContent("ready now; lower resolution");

    const query = api.find("GET", "/api/v1/models/t2v-a14b/strategy")[0].query;
    expect(query.getAll("inputs")).toEqual(["text", "image"]);
    expect(query.get("quality")).toBe("medium");
    expect(query.get("speed")).toBe("fast");
    expect(query.get("vram_gb")).toBe("24");
    expect(query.has("resolution")).toBe(false);
  });

  it("shows a no-alternative 404 as an answer, not a failure", async () => {
    mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/strategy": { ...strategy, strategy_type: "download_and_retry", alternative_model: null },
      "GET /api/v1/models/t2v-a14b/alternative": apiError(
        404,
        "no-alternative",
        "No other model can take image input at 24 GB.",
        "Download t2v-a14b, or allow more GPU memory.",
      ),
    });
    const region = await ask();
    expect(within(region).getByTestId("strategy-type")).toHaveTextContent("Download, then run the job");
    const note = within(region).getByTestId("no-alternative");
    expect(note).toHaveTextContent("No other model can take image input at 24 GB.");
    expect(note).toHaveTextContent("Download t2v-a14b, or allow more GPU memory.");
    expect(within(region).queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows a failed strategy as an alert with its hint", async () => {
    mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/strategy": apiError(503, "source-unreachable", "The hub does not answer.", "Check the network."),
      "GET /api/v1/models/t2v-a14b/alternative": apiError(404, "no-alternative", "None fits.", ""),
    });
    const region = await ask();
    const alert = within(region).getByRole("alert");
    expect(alert).toHaveTextContent("The hub does not answer.");
    expect(alert).toHaveTextContent("Check the network.");
  });
});
