import { renderToString } from "react-dom/server";
import { expect, test } from "vitest";

import Home from "./page";

test("the home page says hello", () => {
  expect(renderToString(<Home />)).toContain("Hello, world!");
});
