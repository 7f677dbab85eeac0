import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { apiError, mockFetch } from "../../test/fakes";
import { model } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { FallbackForm } from "./FallbackForm";

const step = (text: string, action: string | null, model_id: string | null) => ({
  text,
  action,
  model_id,
  route: action ? `POST /api/v1/models/${model_id}/${action}` : null,
});

const strategy = {
  strategy_type: "use_requested",
  recommended_action: "run the job on t2v-a14b",
  alternative_model: null,
  estimated_wait_time: null,
  user_message: "t2v-a14b is here and takes this job.",
  can_queue_request: false,
  wait: null,
  suggestion: null,
  changes: [],
  steps: [],
  action: null,
  action_model: null,
  route: null,
};

const alternative = (id: string, extra: Record<string, unknown> = {}) => ({
  suggested_model: id,
  compatibility_score: 0.82,
  performance_difference: 0.4,
  availability_status: "available",
  reason: `${id} takes text and image; lower resolution`,
  estimated_quality_difference: "slightly_lower",
  needs: [],
  ...extra,
});

const advice = {
  requested: { model_id: "t2v-a14b", availability_status: "available", fits: true, reason: "takes text and image at 1280x704" },
  strategy,
  alternatives: [alternative("ti2v-5b"), alternative("i2v-a14b", { availability_status: "missing", needs: ["download 126 GB"], performance_difference: -0.2 })],
  not_offered: [
    { model_id: "tiny-t2i", reason: "takes text only; the job gives an image", capabilities_known: true },
    { model_id: "my-lora", reason: "its catalog entry declares no capabilities", capabilities_known: false },
  ],
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
  return screen.findByRole("region", { name: "Advice for this job" });
}

describe("FallbackForm", () => {
  it("shows the whole advice: the requested model when it fits, every alternative, and who was left out", async () => {
    const api = mockFetch({ "GET /api/v1/models": catalog, "GET /api/v1/models/t2v-a14b/advice": advice });
    const region = await ask();
    expect(within(region).getByTestId("requested")).toHaveTextContent(
      "t2v-a14b (available): Takes this job — takes text and image at 1280x704",
    );
    expect(within(region).getByTestId("strategy-type")).toHaveTextContent("Run it on the requested model");
    expect(region).toHaveTextContent("t2v-a14b is here and takes this job.");

    const alternatives = within(within(region).getByRole("list", { name: "Alternatives" })).getAllByRole("listitem");
    expect(alternatives).toHaveLength(2);
    expect(alternatives[0]).toHaveTextContent("ti2v-5b (available)");
    expect(alternatives[0]).toHaveTextContent("Slightly lower quality");
    expect(alternatives[0]).toHaveTextContent("faster (+40%)");
    expect(alternatives[0]).toHaveTextContent("ti2v-5b takes text and image; lower resolution");
    expect(within(alternatives[0]).getByTestId("compatibility")).toHaveTextContent("82%");
    expect(alternatives[1]).toHaveTextContent("i2v-a14b (not downloaded)");
    expect(alternatives[1]).toHaveTextContent("slower (-20%)");
    expect(alternatives[1]).toHaveTextContent("Needsdownload 126 GB");

    const leftOut = within(within(region).getByRole("list", { name: "Left out" })).getAllByRole("listitem");
    expect(leftOut.map((li) => li.textContent)).toEqual([
      "tiny-t2i: takes text only; the job gives an image",
      "my-lora Capabilities unknown: its catalog entry declares no capabilities",
    ]);
    // People's words, never the service's codes.
    expect(region).not.toHaveTextContent(/use_requested|slightly_lower|capabilities_known|missing/);

    expect(api.find("GET", "/api/v1/models/t2v-a14b/strategy")).toEqual([]);
    const query = api.find("GET", "/api/v1/models/t2v-a14b/advice")[0].query;
    expect(query.getAll("inputs")).toEqual(["text", "image"]);
    expect(query.get("quality")).toBe("medium");
    expect(query.get("speed")).toBe("fast");
    expect(query.get("vram_gb")).toBe("24");
    expect(query.has("resolution")).toBe(false);
  });

  it("lists models whose capabilities are unknown last, whatever order they come in", async () => {
    mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/advice": {
        ...advice,
        requested: { ...advice.requested, availability_status: "missing", fits: null, reason: "its catalog entry declares no capabilities" },
        strategy: {
          ...strategy,
          strategy_type: "download_and_retry",
          user_message: "t2v-a14b is not downloaded.",
          steps: [step("Download t2v-a14b", "download", "t2v-a14b")],
        },
        alternatives: [],
        not_offered: [...advice.not_offered].reverse(),
      },
    });
    const region = await ask();
    expect(within(region).getByTestId("requested-fit")).toHaveTextContent("Capabilities unknown");
    expect(within(region).getByTestId("strategy-type")).toHaveTextContent("Download, then run the job");
    expect(region).toHaveTextContent("Download t2v-a14b (Download)");
    expect(region).not.toHaveTextContent("POST /api");
    expect(within(region).getByTestId("no-alternative")).toHaveTextContent("No other model takes this job.");
    const leftOut = within(within(region).getByRole("list", { name: "Left out" })).getAllByRole("listitem");
    expect(leftOut.map((li) => li.dataset.testid)).toEqual(["left-out-tiny-t2i", "left-out-my-lora"]);
  });

  it("says when the requested model cannot take the job", async () => {
    mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/advice": {
        ...advice,
        requested: { ...advice.requested, fits: false, reason: "needs 80 GB of GPU memory; the job allows 24 GB" },
        strategy: { ...strategy, strategy_type: "alternative_model", alternative_model: "ti2v-5b", user_message: "Use ti2v-5b." },
      },
    });
    const region = await ask();
    expect(within(region).getByTestId("requested")).toHaveTextContent(
      "Cannot take this job — needs 80 GB of GPU memory; the job allows 24 GB",
    );
    expect(within(region).getByTestId("strategy-type")).toHaveTextContent("Use another model");
  });

  it("shows a failed answer as an alert with its hint", async () => {
    mockFetch({
      "GET /api/v1/models": catalog,
      "GET /api/v1/models/t2v-a14b/advice": apiError(503, "source-unreachable", "The hub does not answer.", "Check the network."),
    });
    const user = userEvent.setup();
    renderWithProviders(<FallbackForm />);
    const form = await screen.findByRole("form", { name: "What can I use for this job?" });
    await waitFor(() => expect(within(form).getByLabelText("Model")).toHaveValue("t2v-a14b"));
    await user.click(within(form).getByRole("button", { name: "Ask" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The hub does not answer.");
    expect(alert).toHaveTextContent("Check the network.");
    expect(screen.queryByRole("region", { name: "Advice for this job" })).not.toBeInTheDocument();
  });
});
