import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach } from "vitest";
import { FakeEventSource } from "./fakes";

beforeEach(() => {
  window.sessionStorage.clear();
  window.localStorage.clear();
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/");
});

afterEach(() => {
  cleanup();
});
