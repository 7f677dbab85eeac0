import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { deferred } from "../test/fakes";
import { useResource } from "./useResource";

function setup() {
  const answers: ReturnType<typeof deferred<string>>[] = [];
  const hook = renderHook(() =>
    useResource(() => {
      const d = deferred<string>();
      answers.push(d);
      return d.promise;
    }, []),
  );
  return { hook, answers };
}

describe("useResource", () => {
  it("drops an answer older than the one already shown", async () => {
    const { hook, answers } = setup();
    await act(async () => answers[0].resolve("first"));
    expect(hook.result.current.data).toBe("first");

    let second!: Promise<void>;
    let third!: Promise<void>;
    act(() => {
      second = hook.result.current.reload();
      third = hook.result.current.reload();
    });
    await act(async () => {
      answers[2].resolve("third");
      await third;
    });
    expect(hook.result.current.data).toBe("third");
    await act(async () => {
      answers[1].resolve("second (stale)");
      await second;
    });
    expect(hook.result.current.data).toBe("third");
  });

  it("applies answers that come in order, and ignores an older error", async () => {
    const { hook, answers } = setup();
    await act(async () => answers[0].resolve("first"));
    let a!: Promise<void>;
    let b!: Promise<void>;
    act(() => {
      a = hook.result.current.reload();
      b = hook.result.current.reload();
    });
    await act(async () => {
      answers[1].resolve("second");
      await a;
    });
    expect(hook.result.current.data).toBe("second");
    await act(async () => {
      answers[2].resolve("third");
      await b;
    });
    expect(hook.result.current.data).toBe("third");

    let c!: Promise<void>;
    let d!: Promise<void>;
    act(() => {
      c = hook.result.current.reload();
      d = hook.result.current.reload();
    });
    await act(async () => {
      answers[4].resolve("fifth");
      await d;
      answers[3].reject(new Error("late failure"));
      await c;
    });
    expect(hook.result.current.data).toBe("fifth");
    expect(hook.result.current.error).toBeNull();
  });

  it("keeps the same object until its data changes", async () => {
    const { hook, answers } = setup();
    await act(async () => answers[0].resolve("first"));
    const before = hook.result.current;
    hook.rerender();
    expect(hook.result.current).toBe(before);
    await act(async () => {
      const p = hook.result.current.reload();
      answers[1].resolve("second");
      await p;
    });
    expect(hook.result.current).not.toBe(before);
    expect(hook.result.current.reload).toBe(before.reload);
    expect(hook.result.current.setData).toBe(before.setData);
  });
});
