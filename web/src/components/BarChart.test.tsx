import { render, screen } from "@testing-library/react";
import { formatDuration } from "../format";
import { axisTicks, BarChart } from "./BarChart";

function chart() {
  return screen.getByRole("figure");
}

describe("BarChart", () => {
  it("draws a y-axis with round ticks and its unit, and each bar's value", () => {
    render(
      <BarChart
        title="Seconds per job"
        unit="seconds per job"
        bars={[
          { label: "a", value: 30, text: formatDuration(30) },
          { label: "b", value: 75, text: formatDuration(75) },
        ]}
      />,
    );
    const ticks = [...chart().querySelectorAll(".bar-chart__tick")].map((t) => t.textContent);
    expect(ticks).toEqual(["0", "20", "40", "60", "80"]);
    expect(chart().querySelector(".bar-chart__unit")).toHaveTextContent("seconds per job");
    const bars = [...chart().querySelectorAll<HTMLElement>(".bar-chart__bar")];
    expect(bars.map((b) => b.textContent)).toEqual(["30 s", "1 min 15 s"]);
    expect(bars.map((b) => b.style.height)).toEqual(["37.5%", "93.75%"]);
  });

  it("draws no bar for a zero: one 0 s job is not a full-height bar", () => {
    render(<BarChart title="Seconds per job" unit="seconds per job" bars={[{ label: "a", value: 0, text: "0 s" }]} />);
    expect(chart().querySelectorAll(".bar-chart__bar")).toHaveLength(0);
    expect(chart()).toHaveTextContent("0 s");
    const ticks = [...chart().querySelectorAll(".bar-chart__tick")].map((t) => t.textContent);
    expect(ticks.at(-1)).toBe("1");
    expect(screen.getByRole("table", { name: "Seconds per job" })).toHaveTextContent("a0 s");
  });

  it("keeps a job of a few milliseconds at the foot of a 0..1 s axis", () => {
    render(<BarChart title="Seconds per job" unit="seconds per job" max={1} bars={[{ label: "a", value: 0.003, text: "0 s" }]} />);
    const ticks = [...chart().querySelectorAll(".bar-chart__tick")].map((t) => t.textContent);
    expect(ticks).toEqual(["0", "0.25", "0.5", "0.75", "1"]);
    expect(chart().querySelector<HTMLElement>(".bar-chart__bar")?.style.height).toBe("0.3%");
  });

  it("keeps a share on a 0..100% axis", () => {
    render(
      <BarChart
        title="Share"
        unit="% of jobs"
        max={1}
        tickFormat={(v) => `${Math.round(v * 100)}%`}
        bars={[{ label: "a", value: 0.5 }]}
      />,
    );
    const ticks = [...chart().querySelectorAll(".bar-chart__tick")].map((t) => t.textContent);
    expect(ticks).toEqual(["0%", "25%", "50%", "75%", "100%"]);
    expect(chart().querySelector<HTMLElement>(".bar-chart__bar")?.style.height).toBe("50%");
  });

  it("steps counts by whole numbers", () => {
    expect(axisTicks(3, { integer: true })).toEqual([0, 1, 2, 3]);
    expect(axisTicks(0, { integer: true })).toEqual([0, 1]);
    expect(axisTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(axisTicks(1234)).toEqual([0, 500, 1000, 1500]);
  });
});
